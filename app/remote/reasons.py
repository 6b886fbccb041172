"""Why the broker cannot be reached, or why it refused us, in a sentence for a person."""

from __future__ import annotations

import socket
import ssl

from app.remote.settings import CloudSettings

# MQTT 3.1.1 CONNACK codes and their MQTT 5 reason codes, as paho reports them.
_BAD_LOGIN = {4, 134}
_NOT_AUTHORISED = {5, 135}
_BAD_CLIENT_ID = {2, 133}
_UNAVAILABLE = {3, 136}


# The alerts a TLS server sends when it wants a client certificate or refuses the one it got.
_CLIENT_CERT_ALERTS = frozenset({
    "SSLV3_ALERT_HANDSHAKE_FAILURE", "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN", "TLSV1_ALERT_UNKNOWN_CA",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE"})


def connect_error(exc: BaseException, settings: CloudSettings) -> str:
    """A failure to open the connection (before any CONNACK)."""
    where = settings.shown_url
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or str(exc)
        ca = (f"the CA in TLS CA Certificate ({settings.ca_cert})" if settings.ca_cert
              else "this computer's trusted authorities")
        return (f"the broker at {where} presented a certificate that is not trusted "
                f"({detail}): it is not signed by {ca}, or does not name that host. Set TLS "
                "CA Certificate to the CA that signed the broker's certificate")
    if isinstance(exc, ssl.SSLError) and exc.reason in _CLIENT_CERT_ALERTS:
        return _client_certificate(str(exc.reason), settings)
    if isinstance(exc, ssl.SSLError):
        return (f"the TLS handshake with {where} failed ({exc.reason or exc}); is that a TLS "
                "port? mqtts:// needs the broker's TLS listener (usually 8883)")
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
        return (f"a TLS file cannot be read: {exc.filename} ({exc.strerror}); check TLS CA "
                "Certificate, TLS Client Certificate and TLS Client Key")
    if isinstance(exc, ConnectionRefusedError):
        return (f"nothing accepts connections at {where} (connection refused): the broker is "
                "not running there, or the Broker URL's port is wrong")
    if isinstance(exc, socket.gaierror):
        return f"the host name of {where} cannot be resolved ({exc.strerror})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"{where} did not answer in time (a firewall, or no route to it)"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return f"{where} closed the connection at once (a TLS port reached with mqtt://?)"
    if isinstance(exc, OSError):
        return f"{where} cannot be reached ({exc.strerror or exc})"
    return f"connecting to {where} failed ({type(exc).__name__}: {exc})"


def refused(code: int, settings: CloudSettings) -> str:
    """The broker answered CONNECT with a refusal (``code``: the CONNACK's reason code)."""
    where = settings.shown_url
    user = settings.username or "(no user name)"
    if code in _BAD_LOGIN:
        return (f"the broker at {where} refused the user name or password of {user}: check "
                "Username and Password")
    if code in _NOT_AUTHORISED:
        # Mosquitto answers a wrong password with this code too (MQTT 3.1.1 has no other).
        return (f"the broker at {where} refused {user} (not authorised): the user name or "
                f"password is wrong, or the broker does not let this user in with the client "
                f"id {settings.client_id}; check Username and Password")
    if code in _BAD_CLIENT_ID:
        return f"the broker at {where} refused the client id {settings.client_id}"
    if code in _UNAVAILABLE:
        return f"the broker at {where} is unavailable now (it said so)"
    return f"the broker at {where} refused the connection (reason code {code})"


def closed_after_handshake(exc: ssl.SSLError, settings: CloudSettings) -> str:
    """The TLS connection opened, then ended before the broker answered CONNECT: with TLS 1.3
    that is how a broker refuses a missing or untrusted client certificate."""
    if exc.reason in _CLIENT_CERT_ALERTS:
        return _client_certificate(str(exc.reason), settings)
    if isinstance(exc, ssl.SSLEOFError):
        return _client_certificate("it closed the TLS connection before answering", settings)
    return connect_error(exc, settings)


def _client_certificate(detail: str, settings: CloudSettings) -> str:
    where = settings.shown_url
    if not settings.client_cert:
        return (f"the broker at {where} asks for a client certificate ({detail}): set TLS "
                "Client Certificate and TLS Client Key to a certificate its CA signed")
    return (f"the broker at {where} refused the client certificate in TLS Client Certificate "
            f"({settings.client_cert}; {detail}): it is not signed by a CA the broker trusts, "
            "has expired, or is not for client use")


def lost(settings: CloudSettings) -> str:
    return (f"lost the connection to {settings.shown_url} (the broker closed it, or the "
            "network dropped it)")
