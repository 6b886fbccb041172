"""A transparency-log proof checked offline: the Rekor bundle cosign attaches to a signature
(its SignedEntryTimestamp over the entry, with the log's public key) and that the entry is of
this very payload and signature. The log itself is never contacted."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from app.signing.errors import SignatureRefused
from app.signing.keys import PublicKey, TrustAnchor, key_id, load_public_key, signature_matches


@dataclass(frozen=True)
class LogProof:
    """What a verified bundle says: when the log took the entry, and where."""

    integrated_time: int
    log_index: int
    log_id: str


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise SignatureRefused(f"the transparency-log proof has no {what}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused(f"the transparency-log proof's {what} is not Base64") from None


def canonical_entry(body: str, integrated_time: int, log_id: str, log_index: int) -> bytes:
    """The bytes the log signs: the entry's fields as canonical JSON (RFC 8785: keys sorted,
    no spaces; these values need no further escaping rules)."""
    doc = {"body": body, "integratedTime": integrated_time, "logID": log_id,
           "logIndex": log_index}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def load_log_key(text: str) -> PublicKey:
    key, _, _ = load_public_key(text, "the Transparency Log Public Key")
    return key


def verify_bundle(bundle_text: str, log_key: PublicKey, payload: bytes, signature: bytes,
                  anchor: TrustAnchor | None = None) -> LogProof:
    """Check a cosign bundle (``dev.sigstore.cosign/bundle``) offline; SignatureRefused if not."""
    try:
        bundle: Any = json.loads(bundle_text)
    except (ValueError, RecursionError):
        raise SignatureRefused("the transparency-log proof is not JSON") from None
    if not isinstance(bundle, dict) or not isinstance(bundle.get("Payload"), dict):
        raise SignatureRefused("the transparency-log proof has no Payload")
    entry = bundle["Payload"]
    set_signature = _b64(bundle.get("SignedEntryTimestamp"), "SignedEntryTimestamp")
    body, when, log_id, index = (entry.get("body"), entry.get("integratedTime"),
                                 entry.get("logID"), entry.get("logIndex"))
    if not isinstance(body, str) or not isinstance(log_id, str) \
            or not isinstance(when, int) or not isinstance(index, int) \
            or isinstance(when, bool) or isinstance(index, bool):
        raise SignatureRefused("the transparency-log proof lacks its body, integratedTime, "
                               "logID or logIndex")
    expected_id = key_id(log_key)
    if log_id.lower() != expected_id:
        raise SignatureRefused(f"the transparency-log proof is from another log (id "
                               f"{log_id[:16]}...) than the one whose key is set (id "
                               f"{expected_id[:16]}...); set that log's public key in the "
                               "service settings")
    if not signature_matches(log_key, canonical_entry(body, when, log_id, index), set_signature):
        raise SignatureRefused("the transparency-log proof's SignedEntryTimestamp does not "
                               "verify with the Transparency Log Public Key")
    _check_body(_b64(body, "body"), payload, signature, anchor)
    return LogProof(when, index, log_id)


def _check_body(raw: bytes, payload: bytes, signature: bytes,
                anchor: TrustAnchor | None) -> None:
    """The log entry (hashedrekord or rekord) must be of this payload and this signature."""
    try:
        doc: Any = json.loads(raw)
    except (ValueError, RecursionError):
        raise SignatureRefused("the transparency-log entry is not JSON") from None
    spec = doc.get("spec") if isinstance(doc, dict) else None
    if not isinstance(spec, dict):
        raise SignatureRefused("the transparency-log entry has no spec")
    data, sig = spec.get("data"), spec.get("signature")
    hashed = data.get("hash") if isinstance(data, dict) else None
    value = hashed.get("value") if isinstance(hashed, dict) else None
    if not isinstance(value, str) or value.lower() != hashlib.sha256(payload).hexdigest():
        raise SignatureRefused("the transparency-log entry is of another payload than this "
                               "signature's")
    content = sig.get("content") if isinstance(sig, dict) else None
    if _b64(content, "entry signature") != signature:
        raise SignatureRefused("the transparency-log entry is of another signature")
    public = sig.get("publicKey") if isinstance(sig, dict) else None
    pem = public.get("content") if isinstance(public, dict) else None
    if anchor is not None and isinstance(pem, str):
        logged, _, _ = load_public_key(_b64(pem, "entry key").decode("utf-8", "replace"),
                                       "the key in the transparency-log entry")
        if not anchor.same_key(logged):
            raise SignatureRefused("the transparency-log entry was made with another key than "
                                   "the trust anchor")
