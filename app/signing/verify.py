"""The whole check of one image: its tag resolved to a manifest digest, its cosign signatures
found (the ``sha256-<hex>.sig`` tag, then the OCI referrers), each checked against the trust
anchor, the payload's digest and, when asked, an offline transparency-log proof."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from app.signing.errors import SignatureRefused
from app.signing.keys import load_trust_anchor, signature_matches
from app.signing.payload import SIMPLE_SIGNING, signed_digest
from app.signing.rekor import load_log_key, verify_bundle

SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
COSIGN_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_SIGNATURES = 32


@dataclass(frozen=True)
class Manifest:
    """A manifest as the registry sent it; ``digest`` is computed from ``body``, never taken
    from a header."""

    body: bytes
    media_type: str
    digest: str

    def document(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.body)
        except (ValueError, RecursionError):
            return {}
        return doc if isinstance(doc, dict) else {}


def manifest_of(body: bytes, media_type: str) -> Manifest:
    return Manifest(body, media_type, "sha256:" + hashlib.sha256(body).hexdigest())


class RegistryReader(Protocol):
    """What the check needs of a registry (app/engine/registry.py talks to a real one)."""

    def manifest(self, reference: str) -> Manifest | None:
        """The manifest of a tag or digest; None when there is none."""

    def blob(self, digest: str, max_bytes: int) -> bytes:
        """A blob's bytes, checked against ``digest``."""

    def referrers(self, digest: str) -> list[dict[str, Any]]:
        """The descriptors that refer to ``digest`` (OCI referrers API, or its tag fallback)."""


@dataclass(frozen=True)
class SigningPolicy:
    """An instance's rule: its trust anchor, and whether a log proof is required."""

    trust_anchor: str
    transparency_log: bool


@dataclass(frozen=True)
class Verified:
    """The image that may run: its repository, the verified manifest digest, how it was."""

    repository: str
    digest: str
    how: str

    @property
    def pinned(self) -> str:
        """The reference to pull and create by, so the verified image is the one that runs."""
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class _Candidate:
    payload: bytes
    signature: bytes
    bundle: str | None


def _signature_manifests(registry: RegistryReader, digest: str) -> Iterator[Manifest]:
    """The .sig tag's manifest first; the referrers only if asked for more (so a registry
    without the referrers API costs nothing when the tag has the signature)."""
    tagged = registry.manifest(digest.replace(":", "-", 1) + ".sig")
    if tagged is not None:
        yield tagged
    for descriptor in registry.referrers(digest)[:MAX_SIGNATURES]:
        kind = descriptor.get("artifactType")
        ref = descriptor.get("digest")
        if kind not in (None, COSIGN_ARTIFACT) or not isinstance(ref, str):
            continue
        found = registry.manifest(ref)
        if found is not None:
            yield found


def _candidates(registry: RegistryReader, digest: str) -> Iterator[_Candidate]:
    """Every simple-signing layer with a signature, in discovery order."""
    seen = 0
    for manifest in _signature_manifests(registry, digest):
        for layer in manifest.document().get("layers") or []:
            if not isinstance(layer, dict) or layer.get("mediaType") != SIMPLE_SIGNING:
                continue
            notes = layer.get("annotations") or {}
            encoded, ref = notes.get(SIGNATURE_ANNOTATION), layer.get("digest")
            if not isinstance(encoded, str) or not isinstance(ref, str):
                continue
            seen += 1
            if seen > MAX_SIGNATURES:
                return
            try:
                signature = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
            bundle = notes.get(BUNDLE_ANNOTATION)
            yield _Candidate(registry.blob(ref, MAX_PAYLOAD_BYTES), signature,
                             bundle if isinstance(bundle, str) else None)


def verify_image(registry: RegistryReader, repository: str, tag: str, policy: SigningPolicy,
                 log_key_pem: str = "") -> Verified:
    """Check ``repository:tag`` (or ``@digest``); return what may run, or raise
    SignatureRefused with the reason. Nothing is pulled here."""
    anchor = load_trust_anchor(policy.trust_anchor)
    shown = f"{repository}@{tag}" if tag.startswith("sha256:") else f"{repository}:{tag}"
    manifest = registry.manifest(tag)
    if manifest is None:
        raise SignatureRefused(f"there is no image {shown} in the registry")
    digest = manifest.digest
    if tag.startswith("sha256:") and digest != tag:
        raise SignatureRefused(f"the registry sent a manifest of digest {digest} for {shown}")
    where = f"{shown} ({digest})"
    found = 0
    other = ""
    # Lazily: the first signature that holds ends the search (no further requests).
    for c in _candidates(registry, digest):
        found += 1
        if not signature_matches(anchor.key, c.payload, c.signature):
            continue
        named = signed_digest(c.payload)
        if named != digest:
            other = named
            continue
        if not policy.transparency_log:
            return Verified(repository, digest, f"signature verified with the {anchor.description}")
        if c.bundle is None:
            raise SignatureRefused(
                f"the signature of {where} has no transparency-log proof, and Verify in "
                "transparency log is on; turn it off for signatures made with a key only, or "
                "sign with the transparency log and set its key in the service settings "
                "(Transparency Log Public Key)")
        if not log_key_pem.strip():
            raise SignatureRefused(
                f"the signature of {where} has a transparency-log proof, but no Transparency "
                "Log Public Key is set in the service settings to check it offline; set the "
                "log's public key there, or turn Verify in transparency log off")
        proof = verify_bundle(c.bundle, load_log_key(log_key_pem), c.payload, c.signature,
                              anchor)
        return Verified(repository, digest, f"signature verified with the {anchor.description}"
                        f" and the log proof (entry {proof.log_index})")
    if not found:
        raise SignatureRefused(f"no signature for {where}; sign it with cosign (cosign sign "
                               "--key ...), or clear Trust anchor to run it unsigned")
    if other:
        raise SignatureRefused(f"the signature found for {where} is for another image "
                               f"({other}); re-sign this image")
    raise SignatureRefused(f"the signature of {where} does not match the trust anchor "
                           f"({anchor.description}); it was made with another key, or its "
                           "payload was changed")
