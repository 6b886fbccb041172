"""The signature check on its own (no engine, no network): keys of every kind cosign uses, the
payload's digest, the .sig tag and the referrers, and the offline transparency-log proof."""

from __future__ import annotations

import datetime as dt

import pytest
from cosign_signing import MemoryRegistry, Signer, signature_layer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec
from cryptography.x509.oid import NameOID

from app.signing.errors import SignatureRefused
from app.signing.keys import load_trust_anchor
from app.signing.payload import make_payload, signed_digest
from app.signing.verify import SigningPolicy, verify_image

REPO = "127.0.0.1:5000/acme/app"


def key_only(signer: Signer) -> SigningPolicy:
    return SigningPolicy(signer.public_pem(), transparency_log=False)


def signed_registry(signer: Signer, tag: str = "2", **layer: object) -> tuple[MemoryRegistry,
                                                                              str]:
    reg = MemoryRegistry()
    digest = reg.put_image(tag)
    reg.put_signatures(digest, [signature_layer(signer, digest, f"{REPO}:{tag}", **layer)])
    return reg, digest


@pytest.mark.parametrize("make", [
    Signer.ecdsa, lambda: Signer.ecdsa(ec.SECP384R1()), lambda: Signer.rsa("pkcs1"),
    lambda: Signer.rsa("pss"), Signer.ed25519,
], ids=["ecdsa-p256", "ecdsa-p384", "rsa-pkcs1v15", "rsa-pss", "ed25519"])
def test_the_right_key_verifies_and_names_the_digest_to_run(make: object) -> None:
    signer = make()  # type: ignore[operator]
    reg, digest = signed_registry(signer)
    verified = verify_image(reg, REPO, "2", key_only(signer))
    assert verified.digest == digest
    assert verified.pinned == f"{REPO}@{digest}"


def test_wrong_key_is_refused_with_the_sentence() -> None:
    reg, digest = signed_registry(Signer.ecdsa())
    with pytest.raises(SignatureRefused) as caught:
        verify_image(reg, REPO, "2", key_only(Signer.ecdsa()))
    assert f"the signature of {REPO}:2 ({digest}) does not match the trust anchor" in \
        caught.value.sentence


def test_no_signature_is_refused_naming_the_image_and_digest() -> None:
    reg = MemoryRegistry()
    digest = reg.put_image("2")
    with pytest.raises(SignatureRefused) as caught:
        verify_image(reg, REPO, "2", key_only(Signer.ecdsa()))
    assert caught.value.sentence.startswith(f"no signature for {REPO}:2 ({digest})")


def test_a_tampered_payload_does_not_verify() -> None:
    signer = Signer.ecdsa()
    reg = MemoryRegistry()
    digest = reg.put_image("2")
    honest = make_payload(digest, REPO)
    tampered = honest.replace(b'"optional":null', b'"optional":{"x":"y"}')
    reg.put_signatures(digest, [signature_layer(signer, digest, REPO, payload=tampered,
                                                sign_over=honest)])
    with pytest.raises(SignatureRefused, match="does not match the trust anchor"):
        verify_image(reg, REPO, "2", key_only(signer))


def test_a_payload_for_another_digest_is_refused() -> None:
    signer = Signer.ecdsa()
    reg = MemoryRegistry()
    digest = reg.put_image("2")
    other = reg.put_image("1")
    # A real signature of image 1, copied under image 2's signature tag.
    reg.put_signatures(digest, [signature_layer(signer, other, REPO)])
    with pytest.raises(SignatureRefused) as caught:
        verify_image(reg, REPO, "2", key_only(signer))
    assert f"is for another image ({other})" in caught.value.sentence


def test_signature_found_through_the_referrers() -> None:
    signer = Signer.ed25519()
    reg = MemoryRegistry()
    digest = reg.put_image("2")
    reg.put_signatures(digest, [signature_layer(signer, digest, REPO)], as_referrer=True)
    assert verify_image(reg, REPO, "2", key_only(signer)).digest == digest


def test_one_good_signature_among_others_is_enough() -> None:
    signer = Signer.ecdsa()
    reg = MemoryRegistry()
    digest = reg.put_image("2")
    reg.put_signatures(digest, [signature_layer(Signer.ecdsa(), digest, REPO),
                                signature_layer(signer, digest, REPO)])
    assert verify_image(reg, REPO, "2", key_only(signer)).digest == digest


# -- trust anchors -------------------------------------------------------------------------

def _certificate(signer: Signer, start: dt.datetime, end: dt.datetime) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme signer")])
    key = signer.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_a_certificate_anchor_uses_its_key() -> None:
    signer = Signer.ecdsa()
    now = dt.datetime.now(dt.timezone.utc)
    pem = _certificate(signer, now - dt.timedelta(days=1), now + dt.timedelta(days=30))
    reg, digest = signed_registry(signer)
    assert verify_image(reg, REPO, "2", SigningPolicy(pem, False)).digest == digest


def test_an_expired_certificate_anchor_is_refused() -> None:
    signer = Signer.ecdsa()
    now = dt.datetime.now(dt.timezone.utc)
    pem = _certificate(signer, now - dt.timedelta(days=60), now - dt.timedelta(days=30))
    reg, _ = signed_registry(signer)
    with pytest.raises(SignatureRefused, match="the trust anchor certificate expired on"):
        verify_image(reg, REPO, "2", SigningPolicy(pem, False))


@pytest.mark.parametrize("text", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n"
                                  "-----END PUBLIC KEY-----", "\x00\x01garbage"])
def test_garbage_anchors_are_refused(text: str) -> None:
    with pytest.raises(SignatureRefused) as caught:
        load_trust_anchor(text)
    assert caught.value.sentence.startswith(
        "the trust anchor is not a PEM public key or certificate")


def test_a_private_key_as_anchor_is_refused_without_showing_it() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    with pytest.raises(SignatureRefused) as caught:
        load_trust_anchor(pem)
    assert "is a private key" in caught.value.sentence
    assert pem.splitlines()[1] not in caught.value.sentence


def test_an_unsupported_key_kind_is_named() -> None:
    key = dsa.generate_private_key(2048).public_key()
    pem = key.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(SignatureRefused, match="is a DSA key"):
        load_trust_anchor(pem)


def test_payload_must_be_cosigns_simple_signing() -> None:
    assert signed_digest(make_payload("sha256:" + "a" * 64, REPO)) == "sha256:" + "a" * 64
    for bad, words in [(b"[]", "no critical section"), (b"{", "not JSON"),
                       (b'{"critical":{"type":"x","image":{}}}', "of type 'x'"),
                       (b'{"critical":{"type":"cosign container image signature"}}',
                        "names no image digest")]:
        with pytest.raises(SignatureRefused, match=words):
            signed_digest(bad)


# -- the transparency log ------------------------------------------------------------------

def test_tlog_on_and_no_proof_is_refused_saying_what_to_do() -> None:
    signer = Signer.ecdsa()
    reg, _ = signed_registry(signer)
    with pytest.raises(SignatureRefused) as caught:
        verify_image(reg, REPO, "2", SigningPolicy(signer.public_pem(), True))
    sentence = caught.value.sentence
    assert "has no transparency-log proof" in sentence
    assert "turn it off for signatures made with a key only" in sentence
    assert "Transparency Log Public Key" in sentence


def test_a_log_proof_verifies_offline_with_the_log_key() -> None:
    signer, log = Signer.ecdsa(), Signer.ecdsa()
    reg, digest = signed_registry(signer, log=log)
    verified = verify_image(reg, REPO, "2", SigningPolicy(signer.public_pem(), True),
                            log.public_pem())
    assert verified.digest == digest
    assert "log proof" in verified.how


def test_a_log_proof_without_a_log_key_is_refused() -> None:
    signer, log = Signer.ecdsa(), Signer.ecdsa()
    reg, _ = signed_registry(signer, log=log)
    with pytest.raises(SignatureRefused, match="no Transparency Log Public Key is set"):
        verify_image(reg, REPO, "2", SigningPolicy(signer.public_pem(), True))


def test_a_proof_from_another_log_is_refused() -> None:
    signer = Signer.ecdsa()
    reg, _ = signed_registry(signer, log=Signer.ecdsa())
    with pytest.raises(SignatureRefused, match="from another log"):
        verify_image(reg, REPO, "2", SigningPolicy(signer.public_pem(), True),
                     Signer.ecdsa().public_pem())


def test_a_forged_proof_is_refused() -> None:
    signer, log = Signer.ecdsa(), Signer.ecdsa()
    reg, digest = signed_registry(signer, log=log)
    sig_manifest = reg.manifests[digest.replace(":", "-") + ".sig"]
    # Change the entry's log index: the log's signature no longer covers it.
    forged = sig_manifest.body.replace(b'\\"logIndex\\": 7', b'\\"logIndex\\": 8')
    assert forged != sig_manifest.body
    from app.signing.verify import manifest_of
    reg.manifests[digest.replace(":", "-") + ".sig"] = manifest_of(forged, sig_manifest.media_type)
    with pytest.raises(SignatureRefused, match="SignedEntryTimestamp does not verify"):
        verify_image(reg, REPO, "2", SigningPolicy(signer.public_pem(), True), log.public_pem())
