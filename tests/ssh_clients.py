"""An ssh client setup for tests (a config and an ``ssh`` wrapper first on PATH), and a look
at which ssh client processes are running."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

SSH = shutil.which("ssh") or "/usr/bin/ssh"


@contextlib.contextmanager
def ssh_client_env(folder: Path, *options: str) -> Iterator[Path]:
    """While open, ``ssh`` on PATH reads only a config of ours (``-F``): no keys, no agent,
    known hosts in ``folder``, plus ``options`` (``"ConnectTimeout 2"``...). ``~/.ssh`` is
    never read. Yields the config file."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "ssh_config"
    lines = ["Host *", "  IdentityFile none", "  IdentitiesOnly yes", "  IdentityAgent none",
             f"  UserKnownHostsFile {folder / 'known_hosts'}", "  GlobalKnownHostsFile /dev/null",
             "  ControlPath none", *(f"  {option}" for option in options)]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {SSH} -F "{config}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    saved = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join(filter(None, [str(bin_dir), saved]))
    try:
        yield config
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved


def ssh_clients(port: int) -> list[str]:
    """Every ``ssh … -p PORT … docker system dial-stdio`` process on this machine, whoever
    started it, and every ssh child of this process left unreaped (a zombie), as
    ``"pid: command"`` lines for an assertion message."""
    found: list[str] = []
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the ")".
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        state, ppid = stat[stat.rfind(")") + 2:].split()[:2]
        command = " ".join(a.decode("utf-8", "replace") for a in args if a)
        ours = b"docker system dial-stdio" in args and any(
            a == b"-p" and b == str(port).encode() for a, b in itertools.pairwise(args))
        if ours or (comm == "ssh" and ppid == me and state == "Z"):
            found.append(f"{entry.name}: {command or comm} ({state})")
    return found
