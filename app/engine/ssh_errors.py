"""What the ssh client (or the command it ran on the gateway) said, as a sentence: an ssh://
engine's login, host key, timeout and remote command failures."""

from __future__ import annotations

import re

from app.engine.errors import ActionContext, EngineError, ErrorKind, short_detail
from app.engine.ssh import SshFailure, SshTimeout


def from_ssh(exc: BaseException, ctx: ActionContext) -> EngineError:
    """What the ssh client (or the command it ran on the gateway) said, as a sentence."""
    if isinstance(exc, SshTimeout):
        url = exc.host.url
        seconds = f"{exc.seconds:g} s" if exc.seconds is not None else "the allowed time"
        if exc.logged_in:
            return EngineError(
                f"{ctx.action} got no answer from the Docker engine behind {url} within "
                f"{seconds}; the ssh login worked, so check the engine on the gateway",
                ErrorKind.DEADLINE,
            )
        return EngineError(
            f"{url} did not complete the SSH login within {seconds}; check the SSH server on "
            "the gateway",
            ErrorKind.UNREACHABLE,
        )
    assert isinstance(exc, SshFailure)
    host, options = exc.host, exc.options
    url, port = host.url, host.port or 22
    user = host.user or "this user"
    text = "\n".join(exc.lines)
    low = text.lower()
    last = short_detail(exc.lines[-1]) if exc.lines else ""

    def unreachable(sentence: str) -> EngineError:
        return EngineError(sentence, ErrorKind.UNREACHABLE)

    if exc.no_client:
        return unreachable(
            f"there is no ssh program on this computer to reach {url}; install the OpenSSH "
            "client"
        )
    if exc.ended_by_moorings:
        return unreachable(f"{ctx.action} was cut short: Moorings closed its ssh connection to "
                           f"{url} (closing or stopping)")
    if exc.login_timed_out:
        return unreachable(
            f"{url} answered as an SSH server but did not complete the SSH login within "
            f"{options.login_timeout_s} s; check the SSH server on the gateway"
        )
    if "during banner exchange" in low:
        return unreachable(
            f"{url} accepted the connection but did not answer as an SSH server within "
            f"{options.connect_timeout_s} s; check that port {port} in Docker Host URL is the "
            "gateway's SSH port"
        )
    if "could not resolve hostname" in low or "name or service not known" in low:
        return unreachable(f"the host name {host.host} in {url} cannot be resolved; check "
                           "Docker Host URL")
    if "connection refused" in low and "kex_exchange_identification" not in low:
        return unreachable(
            f"{url} refused the connection: no SSH server listens on {host.host} port {port}; "
            "check Docker Host URL and that the SSH server runs on the gateway"
        )
    if "no route to host" in low or "network is unreachable" in low:
        return unreachable(f"there is no route to {host.host} ({url}); check the network and "
                           "Docker Host URL")
    if "kex_exchange_identification" in low or "banner line contains invalid" in low:
        return unreachable(
            f"{url} accepted the connection and then closed it without answering as an SSH "
            f"server; check that port {port} in Docker Host URL is the gateway's SSH port"
        )
    if "connection timed out" in low or "operation timed out" in low:
        return unreachable(
            f"{url} did not accept the connection within {options.connect_timeout_s} s; check "
            "Docker Host URL and the network (a firewall may drop it)"
        )
    if "host key verification failed" in low or "remote host identification has changed" in low:
        return unreachable(
            f"ssh does not trust the host key of {host.host} (unknown or changed), so it did "
            f"not log in to {url}; run `{host.login}` once in a terminal to check and accept "
            "the key"
        )
    if "permission denied" in low and exc.code == 255:
        m = re.search(r"permission denied \(([^)]*)\)", low)
        accepts = f"; it accepts {m.group(1).replace(',', ', ')}" if m else ""
        return unreachable(
            f"{url} refused the login of {user} (permission denied{accepts}); check the user in "
            "Docker Host URL and that this user's key is in the gateway's authorized_keys or in "
            "the ssh agent"
        )
    if re.search(r"timeout, server \S+ not responding", low):
        alive = f" for {options.alive_s} s" if options.alive_s else ""
        return unreachable(
            f"{url} stopped answering (no reply to ssh keepalives{alive}); check the network "
            "and the gateway"
        )
    if exc.code == 127 or "command not found" in low or re.search(r"docker: .*not found", low):
        return unreachable(
            f"{url} has no docker command for {user}: the gateway needs the docker CLI on that "
            "user's PATH for ssh://"
        )
    if exc.code not in (None, 255):  # ssh logged in; docker system dial-stdio failed there
        if "permission denied" in low:
            return unreachable(
                f"{user} on {host.host} may not use the Docker engine (permission denied on its "
                f"socket); add {user} to the docker group on the gateway"
            )
        if ("no such file or directory" in low or "connection refused" in low
                or "is the docker daemon running" in low):
            return unreachable(
                f"the Docker engine on {host.host} is not running (the ssh login to {url} "
                "worked, but the engine's socket does not answer); start the engine on the "
                "gateway"
            )
        return unreachable(
            f"the ssh login to {url} worked, but `docker system dial-stdio` failed there "
            f"({last or f'exit code {exc.code}'})"
        )
    if "connection reset" in low or "broken pipe" in low or "connection closed" in low:
        return unreachable(f"the SSH connection to {url} broke during {ctx.action} ({last}); "
                           "check the network and the gateway")
    return unreachable(f"ssh to {url} failed during {ctx.action}: {last or 'no reason given'}")
