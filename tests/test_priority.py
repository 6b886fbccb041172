"""The window's CPU priority, asked of the real kernel from a child process in its own session."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import ROOT

from ui.priority import WINDOW_NICE

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the priority is raised on Linux only")

_CHILD = """
import json, os
from ui.priority import raise_window_priority
said = raise_window_priority()
group = open("/proc/self/autogroup").read().split()[-1] if os.path.exists(
    "/proc/self/autogroup") else None
print(json.dumps({"said": said, "nice": os.getpriority(os.PRIO_PROCESS, 0), "group": group}))
"""

PR_CAPBSET_DROP = 24
CAP_SYS_NICE = 23


def _may_raise() -> bool:
    """Whether this user may lower nice to WINDOW_NICE (root, or a nice limit that allows it)."""
    return os.geteuid() == 0 or resource.getrlimit(resource.RLIMIT_NICE)[0] >= 20 - WINDOW_NICE


def _autogroups() -> bool:
    path = Path("/proc/sys/kernel/sched_autogroup_enabled")
    return path.exists() and path.read_text().strip() == "1"


def _child(preexec: Callable[[], None] | None = None) -> dict[str, object]:
    r = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                       cwd=ROOT, timeout=60, check=False, start_new_session=True,
                       preexec_fn=preexec)
    assert r.returncode == 0, r.stderr
    result: dict[str, object] = json.loads(r.stdout)
    return result


def _without_permission() -> None:
    """In the child before exec: no CAP_SYS_NICE after exec (even as root), no nice limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NICE)
    resource.setrlimit(resource.RLIMIT_NICE, (0, hard))
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, CAP_SYS_NICE, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "dropping CAP_SYS_NICE")


def test_the_window_and_its_session_get_a_higher_priority_where_allowed() -> None:
    got = _child()
    if not _may_raise():
        assert got["nice"] == 0
        assert "CAP_SYS_NICE" in str(got["said"])
        return
    assert got["nice"] == WINDOW_NICE
    if _autogroups():
        # The kernel shares CPU between sessions: the session's share is what counts.
        assert got["group"] == str(WINDOW_NICE)
        assert "session" in str(got["said"])
    assert f"nice {WINDOW_NICE}" in str(got["said"])


def test_without_permission_it_stays_normal_and_says_how_to_allow_it() -> None:
    got = _child(_without_permission)
    assert got["nice"] == 0
    assert got["group"] in (None, "0")
    said = str(got["said"])
    assert "normal CPU priority" in said
    assert "CAP_SYS_NICE" in said
    assert f"nice limit of {WINDOW_NICE}" in said


def test_a_priority_someone_chose_is_kept() -> None:
    got = _child(lambda: os.setpriority(os.PRIO_PROCESS, 0, 7))
    assert got["nice"] == 7
    assert got["group"] in (None, "0")
    assert "keeps the CPU priority it was started with (nice 7)" in str(got["said"])
