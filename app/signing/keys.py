"""Trust anchors (a PEM public key, or a certificate whose key is used) and the signature check
with them: ECDSA P-256/P-384/P-521, RSA (PKCS#1 v1.5 and PSS, as cosign signs) and Ed25519."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from app.signing.errors import SignatureRefused

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey

NOT_PEM = ("the trust anchor is not a PEM public key or certificate; expected text that begins "
           "with -----BEGIN PUBLIC KEY----- (such as cosign.pub) or -----BEGIN CERTIFICATE-----")
MIN_RSA_BITS = 2048
# The hashes cosign and sigstore pair with each curve; the curve's own first.
_EC_HASHES: dict[str, tuple[type[hashes.HashAlgorithm], ...]] = {
    "secp256r1": (hashes.SHA256,),
    "secp384r1": (hashes.SHA384, hashes.SHA256),
    "secp521r1": (hashes.SHA512, hashes.SHA256),
}
_EC_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@dataclass(frozen=True)
class TrustAnchor:
    """The key signatures must verify with, and what it is, in words."""

    key: PublicKey
    description: str
    certificate: x509.Certificate | None = None

    def same_key(self, other: PublicKey) -> bool:
        return _spki(self.key) == _spki(other)


def _spki(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: PublicKey) -> str:
    """The SHA-256 of the key's DER SubjectPublicKeyInfo, hex: Rekor's log id."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(_spki(key))
    return digest.finalize().hex()


def load_public_key(text: str, what: str = "the trust anchor") -> tuple[PublicKey, str,
                                                                        x509.Certificate | None]:
    """A supported public key from PEM text (a key or a certificate); SignatureRefused if not."""
    pem = text.strip()
    not_pem = NOT_PEM.replace("the trust anchor", what)
    if "PRIVATE KEY-----" in pem:
        raise SignatureRefused(f"{what} is a private key; give the public key (cosign.pub), and "
                               "keep the private key off the gateway")
    cert: x509.Certificate | None = None
    key: object
    try:
        if "-----BEGIN CERTIFICATE-----" in pem:
            cert = x509.load_pem_x509_certificate(pem.encode("utf-8"))
            key = cert.public_key()
        elif "-----BEGIN PUBLIC KEY-----" in pem or "-----BEGIN RSA PUBLIC KEY-----" in pem:
            key = serialization.load_pem_public_key(pem.encode("utf-8"))
        else:
            raise SignatureRefused(not_pem)
    except (ValueError, UnsupportedAlgorithm, UnicodeError):
        raise SignatureRefused(not_pem) from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        if curve not in _EC_HASHES:
            raise SignatureRefused(f"{what} is an ECDSA key on the curve {curve}; expected P-256, "
                                   "P-384 or P-521, RSA or Ed25519")
        return key, f"ECDSA {_EC_NAMES[curve]} key", cert
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise SignatureRefused(f"{what} is a {key.key_size}-bit RSA key; expected at least "
                                   f"{MIN_RSA_BITS} bits")
        return key, f"RSA {key.key_size}-bit key", cert
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, "Ed25519 key", cert
    raise SignatureRefused(f"{what} is a {type(key).__name__.removesuffix('PublicKey')} key; "
                           "expected ECDSA (P-256, P-384), RSA or Ed25519")


def load_trust_anchor(text: str, now: dt.datetime | None = None) -> TrustAnchor:
    """The instance's trust anchor; a certificate must be valid ``now`` (UTC)."""
    key, description, cert = load_public_key(text)
    if cert is not None:
        moment = now or dt.datetime.now(dt.timezone.utc)
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if moment > end:
            raise SignatureRefused(f"the trust anchor certificate expired on {end:%Y-%m-%d %H:%M} "
                                   "UTC; put the signer's current certificate or public key "
                                   "in Trust anchor")
        if moment < start:
            raise SignatureRefused(f"the trust anchor certificate is valid only from "
                                   f"{start:%Y-%m-%d %H:%M} UTC; check this gateway's clock, or "
                                   "the certificate")
        description = f"certificate ({description})"
    return TrustAnchor(key, description, cert)


def signature_matches(key: PublicKey, payload: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``payload`` verifies with ``key`` in one of the schemes
    cosign uses for that kind of key."""
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, payload)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            for algorithm in _EC_HASHES.get(key.curve.name, (hashes.SHA256,)):
                try:
                    key.verify(signature, payload, ec.ECDSA(algorithm()))
                    return True
                except InvalidSignature:
                    continue
            return False
        if isinstance(key, rsa.RSAPublicKey):
            schemes: tuple[padding.AsymmetricPadding, ...] = (
                padding.PKCS1v15(),
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO))
            for scheme in schemes:
                try:
                    key.verify(signature, payload, scheme, hashes.SHA256())
                    return True
                except InvalidSignature:
                    continue
            return False
    except (InvalidSignature, ValueError):
        return False
