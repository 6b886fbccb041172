"""A user name and password typed into an address: found, and masked wherever text is shown."""

from __future__ import annotations

import re

MASK = "***"
# An address in running text: an optional scheme, then everything up to the first /, space
# or quote (its authority, where a user:password@ goes).
_ADDRESS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?(?P<authority>[^\s/\"'<>()\[\]]+)")


def split_userinfo(address: str) -> tuple[str, str | None, bool, str]:
    """``(scheme, user, has_password, rest)`` of an address: ``user`` is None without one.

    ``https://tech:pw@host/x`` gives ``("https://", "tech", True, "host/x")``. The last ``@``
    before the host ends the user part, since a password may hold an ``@`` or a ``/``.
    """
    scheme, sep, body = address.partition("://")
    if not sep:
        scheme, body = "", address
    else:
        scheme += sep
    if "@" not in body:
        return scheme, None, False, body
    userinfo, _, rest = body.rpartition("@")
    # An @ further down a path is not a user part; a password, though, may hold a /.
    if "/" in userinfo and ":" not in userinfo.partition("/")[0]:
        return scheme, None, False, body
    user, colon, _ = userinfo.partition(":")
    return scheme, user, bool(colon), rest


def mask_address(address: str) -> str:
    """The address with any password replaced by ``***`` (a user name alone is kept)."""
    scheme, user, has_password, rest = split_userinfo(address)
    if user is None or not has_password:
        return address
    return f"{scheme}{user}:{MASK}@{rest}"


def _mask_match(match: re.Match[str]) -> str:
    authority = match["authority"]
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return match[0]
    user = userinfo.partition(":")[0]
    return f"{match['scheme'] or ''}{user}:{MASK}@{host}"


def mask_credentials(text: str) -> str:
    """Any text (an engine's error, a sentence) with the password of every address masked."""
    if "@" not in text:
        return text
    return _ADDRESS.sub(_mask_match, text)
