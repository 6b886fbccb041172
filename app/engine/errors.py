"""Turn docker SDK, requests and socket exceptions into one sentence a technician can act on."""

from __future__ import annotations

import json
import re
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import docker.errors
import requests.exceptions
import urllib3.exceptions

from app.engine.ssh import SshFailure, SshTimeout
from app.redact import mask_credentials

DOCKER_HUB = "docker.io"


class ErrorKind(str, Enum):
    """What went wrong, in words a retry policy or a status badge can use."""

    AUTH = "auth"  # the registry refused the credentials, or needs some
    NOT_FOUND = "not-found"  # no such image (local or in the registry), container or network
    UNREACHABLE = "unreachable"  # the engine or the registry does not answer
    DEADLINE = "deadline"  # something took longer than allowed
    CANCELLED = "cancelled"  # someone asked to stop
    CONFLICT = "conflict"  # a name or a host port is already taken
    CONFIG = "config"  # the engine refuses a setting: runtime, log driver, privileged, name
    VERSION = "version"  # the engine does not speak the API version asked for
    TLS = "tls"  # the secure connection to the engine or the registry failed
    ENGINE = "engine"  # anything else the engine reported


KINDS = frozenset(ErrorKind)

MAX_DETAIL = 160


class EngineError(Exception):
    """An engine operation failed; ``sentence`` is for a person, ``kind`` for the program
    (one of :data:`KINDS`)."""

    def __init__(self, sentence: str, kind: ErrorKind | str = ErrorKind.ENGINE) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.kind = ErrorKind(kind)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, sentence={self.sentence!r})"


@dataclass(frozen=True)
class ActionContext:
    action: str
    registry: str | None
    reference: str | None
    engine: str | None

    @property
    def at_registry(self) -> str:
        return f"registry {self.registry}" if self.registry else "the registry"

    @property
    def image(self) -> str:
        return self.reference or "the image"

    @property
    def no_image(self) -> str:
        return f"no image {self.reference}" if self.reference else "no such image"

    @property
    def engine_at(self) -> str:
        return f"the Docker engine at {self.engine}" if self.engine else "the Docker engine"


def unjson(text: str) -> str:
    """The message inside a JSON error body, or the text itself."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            return stripped
        if isinstance(data, dict):
            detail = data.get("errorDetail")
            for value in (
                data.get("message"),
                data.get("error"),
                detail.get("message") if isinstance(detail, dict) else None,
            ):
                if isinstance(value, str) and value:
                    return value.strip()
    return stripped


def short_detail(text: str) -> str:
    """One line, no JSON, long ids cut to 12 characters, at most ~160 characters."""
    text = unjson(text)
    text = re.sub(r"\b([0-9a-f]{12})[0-9a-f]{52}\b", r"\1", text)
    text = " ".join(text.split())
    text = re.sub(r":\s*unknown$", "", text)  # runc's error class, meaningless to a person
    if len(text) > MAX_DETAIL:
        text = text[: MAX_DETAIL - 1].rstrip() + "…"
    return text.rstrip(" .")


def registry_of(reference: str) -> str:
    """The registry host of an image reference (``docker.io`` when it names none), as the
    engine decides it: the first path component is a host only if it has a dot or a port,
    or is ``localhost``."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def explain(
    exc: BaseException,
    *,
    action: str,
    registry: str | None = None,
    reference: str | None = None,
    engine: str | None = None,
) -> str:
    """One sentence (lower-case start, no final period) saying what went wrong and what to
    check, never a stack trace or raw JSON. ``action`` is what was being done ("pulling
    127.0.0.1:5000/x:1"); ``registry`` and ``reference`` name the registry and image if known
    (the registry is taken from the reference otherwise); ``engine`` is the Docker host URL."""
    return engine_error(
        exc, action=action, registry=registry, reference=reference, engine=engine
    ).sentence


def engine_error(
    exc: BaseException,
    *,
    action: str,
    registry: str | None = None,
    reference: str | None = None,
    engine: str | None = None,
) -> EngineError:
    """Like :func:`explain`, but an :class:`EngineError` carrying the kind too (not raised).
    An EngineError passes through unchanged. A password written into an address (the engine
    host, a registry's URL, the engine's own text) never reaches the sentence."""
    if isinstance(exc, EngineError):
        return exc
    found = _engine_error(exc, action=action, registry=registry, reference=reference,
                          engine=engine)
    return EngineError(mask_credentials(found.sentence), found.kind)


def _engine_error(
    exc: BaseException,
    *,
    action: str,
    registry: str | None,
    reference: str | None,
    engine: str | None,
) -> EngineError:
    if registry is None and reference:
        registry = registry_of(reference)
    ctx = ActionContext(action, registry, reference, engine or _engine_from(exc))
    chain = _chain(exc)
    answer = next((e for e in chain if isinstance(e, docker.errors.APIError)), None)
    if answer is not None:
        # The engine answered: its text says what happened, on its side or the registry's.
        text = _explanation(answer)
        return _from_engine_text(text, ctx, answer.status_code) or _fallback(text, ctx)
    found = _from_client_side(chain, ctx)
    if found is not None:
        return found
    # No exception type told us: the text may still (a DockerException wrapping a string,
    # or a stream's error item turned into an exception).
    text = _plain_text(exc)
    return (
        _from_client_text(text, ctx) or _from_engine_text(text, ctx, None) or _fallback(text, ctx)
    )


# --- what the engine said ----------------------------------------------------------------


def _from_engine_text(text: str, ctx: ActionContext, status: int | None) -> EngineError | None:
    low = text.lower()
    m: re.Match[str] | None
    if "unable to apply caps" in low:
        return EngineError(
            "the engine refused to start a privileged container: this host does not allow "
            "all capabilities; turn off Privileged Mode",
            ErrorKind.CONFIG,
        )
    m = re.search(r"bind for (\S+?) failed: port is already allocated", text, re.I)
    if m or "address already in use" in low:
        where = f"port {m.group(1)} is" if m else "a host port is"
        return EngineError(
            f"{where} already in use on this host; choose other External Ports or stop what "
            "uses it",
            ErrorKind.CONFLICT,
        )
    if "client sent an http request to an https server" in low:
        return EngineError(
            f"{ctx.engine_at} speaks TLS on that port, but this connection was plain HTTP; turn "
            "Use TLS on and fill in TLS CA Certificate (and TLS Client Certificate and Key if "
            "the engine demands them)",
            ErrorKind.TLS,
        )
    m = re.search(r"unknown runtime specified:? ?(\S+)", text, re.I)
    if m:
        return EngineError(f"the engine has no runtime named {m.group(1)}; check Runtime",
                           ErrorKind.CONFIG)
    m = re.search(r'logging plugin "?([^":\s]+)"?', text, re.I)
    if m:
        return EngineError(
            f"the engine has no log driver named {m.group(1)}; check Logger Type", ErrorKind.CONFIG
        )
    m = re.search(r"network (\S+) not found", text, re.I)
    if m:
        return EngineError(
            f"the engine has no network named {m.group(1)}; check Networking Mode",
            ErrorKind.NOT_FOUND)
    m = re.search(r"no such image: (\S+)", text, re.I)
    if m:
        return EngineError(
            f"the image {m.group(1)} is not on this host; pull it first, or check Image name "
            "and Image tag",
            ErrorKind.NOT_FOUND,
        )
    m = re.search(r"no such container: (\S+)", text, re.I)
    if m:
        return EngineError(f"there is no container {m.group(1)} any more", ErrorKind.NOT_FOUND)
    m = re.search(r'container name "/?([^"]+)" is already in use', text, re.I)
    if m:
        return EngineError(
            f"a container named {m.group(1)} already exists; remove or rename it first",
            ErrorKind.CONFLICT,
        )
    m = re.search(r"client version (\S+) is too (new|old)", text, re.I)
    if m:
        limit = re.search(r"(maximum|minimum) supported api version is (\S+)", text, re.I)
        speaks = f" (its {limit.group(1).lower()} is {limit.group(2)})" if limit else ""
        return EngineError(
            f"the Docker engine does not speak API version {m.group(1)}{speaks}; leave the "
            "API version to be negotiated",
            ErrorKind.VERSION,
        )
    if "no space left on device" in low:
        return EngineError(
            f"{ctx.action} failed: the disk of the engine's host is full; remove unused images "
            "or containers",
            ErrorKind.ENGINE,
        )
    return _from_registry_text(text, low, ctx, status)


def _from_registry_text(
    text: str, low: str, ctx: ActionContext, status: int | None
) -> EngineError | None:
    if "no basic auth credentials" in low:
        return EngineError(
            f"{ctx.at_registry} needs a username and password for {ctx.image}; fill in "
            "Authentication Username and Password",
            ErrorKind.AUTH,
        )
    if "pull access denied" in low or "requested access to the resource is denied" in low:
        return EngineError(
            f"{ctx.at_registry} refused access to {ctx.image}: the repository does not exist "
            "or needs a login; check Image name, Authentication Username and Password",
            ErrorKind.AUTH,
        )
    if (
        "unauthorized" in low
        or "authentication required" in low
        or "incorrect username or password" in low
        or "401 unauthorized" in low
    ):
        return EngineError(
            f"{ctx.at_registry} refused the username or password; check Authentication "
            "Username and Password",
            ErrorKind.AUTH,
        )
    if "toomanyrequests" in low or "rate limit" in low:
        return EngineError(
            f"{ctx.at_registry} refused {ctx.action}: too many requests (rate limit); wait and "
            "try again, or log in to the registry",
            ErrorKind.UNREACHABLE,
        )
    if (
        "manifest unknown" in low
        or "name unknown" in low
        or re.search(r"manifest for \S+ not found", low)
        or (status == 404 and ctx.action.startswith("pull"))
    ):
        return EngineError(
            f"the registry has {ctx.no_image}; check Image name and Image tag", ErrorKind.NOT_FOUND
        )
    if "invalid reference format" in low or "invalid tag format" in low:
        detail = short_detail(text.split(":", 1)[1] if ":" in text else text)
        return EngineError(
            f"{ctx.image} is not a valid image reference ({detail or 'invalid format'}); "
            "check Image name and Image tag",
            ErrorKind.CONFIG,
        )
    m = re.search(r"x509: [^\n]*|tls: [^\n]*|server gave http response to https client", text, re.I)
    if m:
        return EngineError(
            f"the secure connection to {ctx.at_registry} failed ({short_detail(m.group(0))}); "
            "check the registry's certificate, or use it over plain HTTP as an insecure "
            "registry",
            ErrorKind.TLS,
        )
    reason = _network_reason(low)
    # Only a registry error if it is about a registry: the engine's own plumbing can also
    # refuse connections (a plugin, say), and that must not send anyone to the registry.
    about_registry = ctx.registry or "dial tcp" in low or "/v2/" in low or "lookup " in low
    if reason is not None and about_registry:
        host = ctx.registry or _host_in_url(text)
        where = f"registry {host}" if host else "the registry"
        broke = _broke_off(low)
        if broke is not None:
            # It answered, then the transfer broke: the registry is there, the link is not.
            return EngineError(
                f"{where} {broke} in the middle of {ctx.action}; check the network between the "
                "engine's host and the registry, and the registry",
                ErrorKind.UNREACHABLE,
            )
        return EngineError(
            f"{where} is not reachable ({reason}); check the registry address in Image name "
            "and that the registry is running",
            ErrorKind.UNREACHABLE,
        )
    return None


def _network_reason(low: str) -> str | None:
    """What the engine's Go network error says, in a few words; None if it is no such error."""
    reasons = (
        ("connection refused", "connection refused"),
        ("no such host", "its host name is unknown"),
        ("server misbehaving", "its host name cannot be resolved"),
        ("no route to host", "no route to its host"),
        ("network is unreachable", "the network is unreachable"),
        ("i/o timeout", "it did not answer in time"),
        ("client.timeout exceeded", "it did not answer in time"),
        ("tls handshake timeout", "it did not answer in time"),
        ("context deadline exceeded", "it did not answer in time"),
        ("connection reset by peer", "it reset the connection"),
        ("unexpected eof", "it closed the connection"),
    )
    for needle, reason in reasons:
        if needle in low:
            return reason
    return None


def _broke_off(low: str) -> str | None:
    """How a transfer that had started broke, from the engine's Go error; None if the error
    came while connecting ("dial tcp ...") or is no such error."""
    if "dial tcp" in low:
        return None
    if "connection reset by peer" in low:
        return "reset the connection"
    if "unexpected eof" in low or "broken pipe" in low:
        return "closed the connection"
    return None


def _host_in_url(text: str) -> str | None:
    m = re.search(r"https?://([^/\s\"]+)", text)
    return m.group(1) if m else None


# --- what happened on our side of the engine socket ----------------------------------------


def _from_client_side(chain: list[BaseException], ctx: ActionContext) -> EngineError | None:
    def has(*types: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, types)), None)

    ssh_error = has(SshFailure, SshTimeout)
    if ssh_error is not None:
        # (ssh's sentences live beside ssh, and build on this module's error type.)
        from app.engine.ssh_errors import from_ssh

        return from_ssh(ssh_error, ctx)
    engine = ctx.engine_at
    if has(docker.errors.TLSParameterError):
        return EngineError(
            f"the TLS settings for {engine} are incomplete; check TLS CA Certificate, TLS Client "
            "Certificate and TLS Client Key",
            ErrorKind.TLS,
        )
    tls_error = has(ssl.SSLError, requests.exceptions.SSLError, urllib3.exceptions.SSLError)
    if tls_error is not None:
        code = _tls_code(chain)
        if code == "WRONG_VERSION_NUMBER":
            return EngineError(
                f"{engine} did not answer in TLS: that port is not a TLS port (a plain tcp:// "
                "engine answers in plain HTTP); check the port in Docker Host URL (Docker uses "
                "2376 with TLS, 2375 without) and the TLS fields",
                ErrorKind.TLS,
            )
        if code == "TLSV13_ALERT_CERTIFICATE_REQUIRED":
            return EngineError(
                f"{engine} demands a client certificate and none was sent; fill in TLS Client "
                "Certificate and TLS Client Key",
                ErrorKind.TLS,
            )
        if code in ("SSLV3_ALERT_BAD_CERTIFICATE", "TLSV1_ALERT_UNKNOWN_CA",
                    "SSLV3_ALERT_CERTIFICATE_UNKNOWN"):
            return EngineError(
                f"{engine} refused this client's certificate ({_tls_reason(chain)}); check TLS "
                "Client Certificate and TLS Client Key: the engine's CA must have signed them",
                ErrorKind.TLS,
            )
        return EngineError(
            f"the secure connection to {engine} failed ({_tls_reason(chain)}); check TLS CA "
            "Certificate, TLS Client Certificate, TLS Client Key and Verify Engine Certificate",
            ErrorKind.TLS,
        )
    if has(FileNotFoundError):
        return EngineError(
            f"{engine} is not running: its socket does not exist; start the engine or check "
            "Docker Host URL",
            ErrorKind.UNREACHABLE,
        )
    if has(PermissionError):
        return EngineError(
            f"this user may not use {engine} (permission denied on its socket); run Moorings "
            "as a member of the docker group or check Docker Host URL",
            ErrorKind.UNREACHABLE,
        )
    if has(ConnectionRefusedError):
        return EngineError(
            f"{engine} refused the connection; check that it is running and Docker Host URL",
            ErrorKind.UNREACHABLE,
        )
    if has(socket.gaierror):
        return EngineError(
            f"the host of {engine} cannot be found; check Docker Host URL", ErrorKind.UNREACHABLE
        )
    # urllib3's NewConnectionError is a ConnectTimeoutError by inheritance: rule it out first.
    timeouts = (
        TimeoutError,
        requests.exceptions.Timeout,
        urllib3.exceptions.ReadTimeoutError,
        urllib3.exceptions.ConnectTimeoutError,
    )
    if any(
        isinstance(e, timeouts) and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return EngineError(f"{ctx.action} got no answer from {engine} in time", ErrorKind.DEADLINE)
    if has(ConnectionResetError, BrokenPipeError, ConnectionAbortedError) or any(
        type(e).__name__ == "RemoteDisconnected" for e in chain
    ):
        return EngineError(
            f"{engine} closed the connection during {ctx.action}; it may have stopped or "
            "restarted",
            ErrorKind.UNREACHABLE,
        )
    if has(requests.exceptions.ConnectionError, urllib3.exceptions.NewConnectionError):
        return EngineError(
            f"{engine} is not reachable ({short_detail(_root_text(chain))}); check that it is "
            "running and Docker Host URL",
            ErrorKind.UNREACHABLE,
        )
    return None


def _from_client_text(text: str, ctx: ActionContext) -> EngineError | None:
    """The same cases, when only a message is left (a DockerException built from a string)."""
    low = text.lower()
    if "error while fetching server api version" not in low and "connection aborted" not in low:
        return None
    engine = ctx.engine_at
    if "no such file or directory" in low or "filenotfounderror" in low:
        return EngineError(
            f"{engine} is not running: its socket does not exist; start the engine or check "
            "Docker Host URL",
            ErrorKind.UNREACHABLE,
        )
    if "permission denied" in low:
        return EngineError(
            f"this user may not use {engine} (permission denied on its socket); run Moorings "
            "as a member of the docker group or check Docker Host URL",
            ErrorKind.UNREACHABLE,
        )
    if "connection refused" in low:
        return EngineError(
            f"{engine} refused the connection; check that it is running and Docker Host URL",
            ErrorKind.UNREACHABLE,
        )
    return EngineError(
        f"{engine} is not reachable; check that it is running and Docker Host URL",
        ErrorKind.UNREACHABLE)


def _tls_code(chain: list[BaseException]) -> str | None:
    """OpenSSL's reason code (``WRONG_VERSION_NUMBER``...) of the first SSL error."""
    for e in chain:
        reason = getattr(e, "reason", None)  # only OpenSSL's own errors have one
        if isinstance(e, ssl.SSLError) and isinstance(reason, str):
            return reason
    return None


def _tls_reason(chain: list[BaseException]) -> str:
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError) and e.verify_message:
            return f"certificate verify failed: {e.verify_message}"
    for e in chain:
        if isinstance(e, ssl.SSLError) and e.reason:
            return str(e.reason).lower().replace("_", " ")
    return "TLS error"


def _engine_from(exc: BaseException) -> str | None:
    """The engine's address when the exception tells it (TCP only: a unix socket's requests
    all go to ``http+docker://localhost``)."""
    for e in _chain(exc):
        pool = getattr(e, "pool", None)
        host, port = getattr(pool, "host", None), getattr(pool, "port", None)
        if isinstance(host, str) and host and not getattr(pool, "socket_path", None):
            return f"tcp://{host}:{port}" if port else f"tcp://{host}"
    m = re.search(r"HTTPS?ConnectionPool\(host='([^']+)', port=(\d+)\)", str(exc))
    if m:
        return f"tcp://{m.group(1)}:{m.group(2)}"
    # docker-py's APIError: "400 Client Error for http://HOST:PORT/version: ..."
    m = re.search(r"\bfor https?://([^/\s:]+(?::\d+)?)/", str(exc))
    return f"tcp://{m.group(1)}" if m else None


# --- text helpers -----------------------------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and every exception it wraps (cause, context, ``reason``, ``args``)."""
    seen: set[int] = set()
    found: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        found.append(e)
        wrapped: Iterable[Any] = (e.__cause__, e.__context__, getattr(e, "reason", None), *e.args)
        todo.extend(x for x in wrapped if isinstance(x, BaseException))
    return found


def _root_text(chain: list[BaseException]) -> str:
    for e in reversed(chain):
        if isinstance(e, OSError) and e.strerror:
            return str(e.strerror)
    return _plain_text(chain[-1])


def _explanation(exc: docker.errors.APIError) -> str:
    text: Any = exc.explanation
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text:
        response = exc.response
        reason = getattr(response, "reason", None) if response is not None else None
        return f"HTTP {exc.status_code} {reason or ''}".strip() if exc.status_code else ""
    return unjson(str(text))


def _plain_text(exc: BaseException) -> str:
    if isinstance(exc, docker.errors.APIError):
        return _explanation(exc)
    text = str(exc) or type(exc).__name__
    return unjson(text)


def _fallback(text: str, ctx: ActionContext) -> EngineError:
    detail = short_detail(text)
    if not detail:
        return EngineError(f"{ctx.action} failed", ErrorKind.ENGINE)
    return EngineError(f"{ctx.action} failed: {detail}", ErrorKind.ENGINE)


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the engine cannot be reached (as opposed to refusing a request):
    a raw SDK or socket exception, or an EngineError of kind ``unreachable`` from a verb of
    the gateway (a pull's ``unreachable`` may be the registry's: ask the engine to tell)."""
    if isinstance(exc, EngineError):
        return exc.kind == ErrorKind.UNREACHABLE
    if isinstance(exc, (requests.exceptions.ConnectionError, ConnectionError,
                        FileNotFoundError, PermissionError)):
        return True
    if isinstance(exc, docker.errors.DockerException) and not isinstance(
            exc, docker.errors.APIError):
        text = str(exc).lower()
        return "connection" in text or "socket" in text or "no such file" in text
    return False
