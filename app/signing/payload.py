"""Cosign's simple-signing payload: the signed JSON that names the image's manifest digest."""

from __future__ import annotations

import json
from typing import Any

from app.signing.errors import SignatureRefused

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_TYPE = "cosign container image signature"


def signed_digest(payload: bytes) -> str:
    """The manifest digest a simple-signing payload names; SignatureRefused if it names none."""
    try:
        doc: Any = json.loads(payload)
    except (ValueError, RecursionError):
        raise SignatureRefused("the signed payload is not JSON; expected cosign's simple-signing "
                               "payload") from None
    critical = doc.get("critical") if isinstance(doc, dict) else None
    if not isinstance(critical, dict):
        raise SignatureRefused("the signed payload has no critical section; expected cosign's "
                               "simple-signing payload")
    kind = critical.get("type")
    if not isinstance(kind, str) or kind.lower() != COSIGN_TYPE:
        raise SignatureRefused(f"the signed payload is of type {str(kind)[:80]!r}; expected "
                               f"{COSIGN_TYPE!r}")
    image = critical.get("image")
    digest = None
    if isinstance(image, dict):
        # cosign writes docker-manifest-digest; the older spec example capitalises it.
        for key, value in image.items():
            if isinstance(key, str) and key.lower() == "docker-manifest-digest":
                digest = value
    if not isinstance(digest, str) or not digest:
        raise SignatureRefused("the signed payload names no image digest "
                               "(critical.image.docker-manifest-digest)")
    return digest


def make_payload(digest: str, reference: str) -> bytes:
    """A payload as ``cosign sign`` writes it (for tests and the bench)."""
    doc = {"critical": {"identity": {"docker-reference": reference},
                        "image": {"docker-manifest-digest": digest},
                        "type": COSIGN_TYPE},
           "optional": None}
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")
