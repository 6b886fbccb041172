"""Test signers: keys made with `cryptography`, signatures and Rekor bundles in cosign's layout,
an in-memory registry for the pure tests, and pushing a `.sig` manifest to the real registry."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from app.signing.payload import SIMPLE_SIGNING, make_payload
from app.signing.rekor import canonical_entry
from app.signing.verify import BUNDLE_ANNOTATION, SIGNATURE_ANNOTATION, Manifest, manifest_of

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_CONFIG = b"{}"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass
class Signer:
    """A private key and how cosign signs with it (``scheme`` for RSA: pkcs1 or pss)."""

    key: PrivateKey
    scheme: str = ""

    @classmethod
    def ecdsa(cls, curve: ec.EllipticCurve | None = None) -> Signer:
        return cls(ec.generate_private_key(curve or ec.SECP256R1()))

    @classmethod
    def rsa(cls, scheme: str = "pkcs1") -> Signer:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), scheme)

    @classmethod
    def ed25519(cls) -> Signer:
        return cls(ed25519.Ed25519PrivateKey.generate())

    def public_pem(self) -> str:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def sign(self, data: bytes) -> bytes:
        key = self.key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            algorithm: hashes.HashAlgorithm = hashes.SHA384() \
                if key.curve.name == "secp384r1" else hashes.SHA256()
            return key.sign(data, ec.ECDSA(algorithm))
        pad: padding.AsymmetricPadding = padding.PKCS1v15() if self.scheme != "pss" else \
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return key.sign(data, pad, hashes.SHA256())


def bundle_for(log: Signer, payload: bytes, signature: bytes, signer: Signer,
               log_index: int = 7, integrated_time: int = 1_750_000_000) -> str:
    """A Rekor bundle (hashedrekord entry and SignedEntryTimestamp) as cosign attaches it."""
    body = {
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {"data": {"hash": {"algorithm": "sha256",
                                   "value": hashlib.sha256(payload).hexdigest()}},
                 "signature": {"content": base64.b64encode(signature).decode(),
                               "publicKey": {"content": base64.b64encode(
                                   signer.public_pem().encode()).decode()}}}}
    body_b64 = base64.b64encode(json.dumps(body).encode()).decode()
    spki = log.key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    log_id = hashlib.sha256(spki).hexdigest()
    entry = canonical_entry(body_b64, integrated_time, log_id, log_index)
    return json.dumps({"SignedEntryTimestamp": base64.b64encode(log.sign(entry)).decode(),
                       "Payload": {"body": body_b64, "integratedTime": integrated_time,
                                   "logIndex": log_index, "logID": log_id}})


@dataclass
class Layer:
    """One signature layer: the payload blob and its annotations."""

    payload: bytes
    annotations: dict[str, str]

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": SIMPLE_SIGNING, "size": len(self.payload),
                "digest": "sha256:" + hashlib.sha256(self.payload).hexdigest(),
                "annotations": self.annotations}


def signature_layer(signer: Signer, digest: str, reference: str, *, payload: bytes | None = None,
                    sign_over: bytes | None = None, log: Signer | None = None) -> Layer:
    """A layer as ``cosign sign`` writes it; ``payload`` replaces the payload stored (a tampered
    one) while ``sign_over`` is what the signature covers (default: the payload)."""
    real = make_payload(digest, reference)
    stored = payload if payload is not None else real
    signature = signer.sign(sign_over if sign_over is not None else stored)
    notes = {SIGNATURE_ANNOTATION: base64.b64encode(signature).decode()}
    if log is not None:
        notes[BUNDLE_ANNOTATION] = bundle_for(log, stored, signature, signer)
    return Layer(stored, notes)


def signature_manifest(layers: list[Layer]) -> bytes:
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "size": len(EMPTY_CONFIG),
                      "digest": "sha256:" + hashlib.sha256(EMPTY_CONFIG).hexdigest()},
           "layers": [layer.descriptor() for layer in layers]}
    return json.dumps(doc).encode()


@dataclass
class MemoryRegistry:
    """A registry in memory: tags and digests to manifests, blobs, and referrers."""

    manifests: dict[str, Manifest] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    referrer_lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def put_image(self, tag: str, body: bytes | None = None) -> str:
        m = manifest_of(body or json.dumps({"schemaVersion": 2, "tag": tag}).encode(),
                        OCI_MANIFEST)
        self.manifests[tag] = m
        self.manifests[m.digest] = m
        return m.digest

    def put_signatures(self, digest: str, layers: list[Layer], *, as_referrer: bool = False
                       ) -> None:
        for layer in layers:
            self.blobs[layer.descriptor()["digest"]] = layer.payload
        m = manifest_of(signature_manifest(layers), OCI_MANIFEST)
        self.manifests[m.digest] = m
        if as_referrer:
            self.referrer_lists.setdefault(digest, []).append(
                {"mediaType": OCI_MANIFEST, "digest": m.digest,
                 "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json"})
        else:
            self.manifests[digest.replace(":", "-") + ".sig"] = m

    def manifest(self, reference: str) -> Manifest | None:
        return self.manifests.get(reference)

    def blob(self, digest: str, max_bytes: int) -> bytes:
        return self.blobs[digest]

    def referrers(self, digest: str) -> list[dict[str, Any]]:
        return self.referrer_lists.get(digest, [])


# -- the real registry ---------------------------------------------------------------------

def _session(user: str, password: str) -> requests.Session:
    session = requests.Session()
    session.auth = (user, password)
    session.trust_env = False
    return session


def push_blob(registry: str, repo: str, data: bytes, user: str, password: str) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    s = _session(user, password)
    start = s.post(f"http://{registry}/v2/{repo}/blobs/uploads/", timeout=10)
    start.raise_for_status()
    location = start.headers["Location"]
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    sep = "&" if "?" in location else "?"
    done = s.put(f"{location}{sep}digest={digest}", data=data,
                 headers={"Content-Type": "application/octet-stream"}, timeout=10)
    done.raise_for_status()
    return digest


def push_manifest(registry: str, repo: str, reference: str, body: bytes, media_type: str,
                  user: str, password: str) -> str:
    s = _session(user, password)
    r = s.put(f"http://{registry}/v2/{repo}/manifests/{reference}", data=body,
              headers={"Content-Type": media_type}, timeout=10)
    r.raise_for_status()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def push_signatures(registry: str, repo: str, digest: str, layers: list[Layer], user: str,
                    password: str, *, tag: str | None = None) -> str:
    """Push the payload blobs, the empty config and the signature manifest under the cosign
    tag ``sha256-<hex>.sig`` (or ``tag``); return the manifest's digest."""
    push_blob(registry, repo, EMPTY_CONFIG, user, password)
    for layer in layers:
        push_blob(registry, repo, layer.payload, user, password)
    return push_manifest(registry, repo, tag or digest.replace(":", "-") + ".sig",
                         signature_manifest(layers), OCI_MANIFEST, user, password)


def manifest_digest(registry: str, repo: str, tag: str, user: str, password: str) -> str:
    s = _session(user, password)
    accept = ", ".join([OCI_MANIFEST, OCI_INDEX,
                        "application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json"])
    r = s.get(f"http://{registry}/v2/{repo}/manifests/{tag}", headers={"Accept": accept},
              timeout=10)
    r.raise_for_status()
    return "sha256:" + hashlib.sha256(r.content).hexdigest()
