"""Cosign image signatures checked offline: the trust anchor, the payload, the log proof."""
