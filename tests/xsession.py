"""A real X display for window tests: Xvfb at a given size, with no window manager (a kiosk
started with `xinit`), matchbox or openbox; and what X itself says of a window's geometry."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

WINDOW_MANAGERS = {
    "none": None,
    "matchbox": ["matchbox-window-manager", "-use_titlebar", "yes"],
    "openbox": ["openbox", "--sm-disable"],
}
# Debian's package of each command (scripts/bootstrap.sh installs them).
PACKAGES = {"Xvfb": "xvfb", "xwininfo": "x11-utils", "xprop": "x11-utils",
            "matchbox-window-manager": "matchbox-window-manager", "openbox": "openbox"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(*commands: str) -> None:
    """Skip (locally) or fail (in CI) when a command these tests need is missing."""
    missing = [c for c in commands if shutil.which(c) is None]
    if not missing:
        return
    packages = sorted({PACKAGES.get(c, c) for c in missing})
    text = (f"needs {', '.join(missing)} (Debian: {' '.join(packages)}; scripts/bootstrap.sh "
            "installs them)")
    if in_ci():
        pytest.fail(f"CI {text}", pytrace=False)
    pytest.skip(text)


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height


@dataclass
class Display:
    name: str
    width: int
    height: int
    wm: str

    @property
    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.name, "QT_QPA_PLATFORM": "xcb"}

    def run(self, *args: str) -> str:
        r = subprocess.run(list(args), capture_output=True, text=True, timeout=20,
                           env={**os.environ, **self.env}, check=False)
        return r.stdout if r.returncode == 0 else ""

    def client_windows(self, title: str) -> list[str]:
        """The ids of the viewable top-level client windows titled ``title``."""
        tree = self.run("xwininfo", "-root", "-tree")
        ids = re.findall(r"^\s*(0x[0-9a-f]+) \"" + re.escape(title) + r"\"", tree, re.M)
        return [i for i in ids if "IsViewable" in self.run("xwininfo", "-id", i)]

    def geometry(self, window_id: str) -> Rect:
        """The client area on the screen, as X has it (after the window manager's moves)."""
        info = self.run("xwininfo", "-id", window_id)

        def num(label: str) -> int:
            m = re.search(rf"{label}:\s+(-?\d+)", info)
            assert m is not None, info
            return int(m.group(1))
        return Rect(num("Absolute upper-left X"), num("Absolute upper-left Y"), num("Width"),
                    num("Height"))

    def frame(self, window_id: str) -> Rect:
        """The client area with the decorations the window manager says it added."""
        client = self.geometry(window_id)
        text = self.run("xprop", "-id", window_id, "_NET_FRAME_EXTENTS")
        m = re.search(r"=\s*(\d+),\s*(\d+),\s*(\d+),\s*(\d+)", text)
        if m is None:
            return client
        left, right, top, bottom = (int(v) for v in m.groups())
        return Rect(client.x - left, client.y - top, client.width + left + right,
                    client.height + top + bottom)

    def work_area(self) -> Rect:
        """The screen less what the window manager keeps (its panels), else the screen."""
        text = self.run("xprop", "-root", "_NET_WORKAREA")
        m = re.search(r"=\s*(\d+),\s*(\d+),\s*(\d+),\s*(\d+)", text)
        if m is None:
            return Rect(0, 0, self.width, self.height)
        return Rect(*(int(v) for v in m.groups()))


def _start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                             f"{width}x{height}x24", "-nolisten", "tcp", "-noreset"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write)
    number = b""
    deadline = time.monotonic() + 30
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        chunk = os.read(read, 16)
        if not chunk:
            break
        number += chunk
    os.close(read)
    if not number.strip():
        proc.kill()
        raise AssertionError("Xvfb did not start")
    return proc, f":{number.decode().strip()}"


def _wm_running(display: Display) -> bool:
    text = display.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK")
    return "window id" in text


@contextmanager
def x_display(width: int, height: int, wm: str) -> Iterator[Display]:
    """Xvfb at ``width`` x ``height``, with the window manager ``wm`` running on it."""
    command = WINDOW_MANAGERS[wm]
    require("Xvfb", "xwininfo", "xprop", *([command[0]] if command else []))
    xvfb, name = _start_xvfb(width, height)
    display = Display(name, width, height, wm)
    manager: subprocess.Popen[bytes] | None = None
    home = Path(tempfile.mkdtemp(prefix="moorings-test-wm-"))
    try:
        if command is not None:
            manager = subprocess.Popen(command, env={**os.environ, **display.env,
                                                     "HOME": str(home)},
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while not _wm_running(display):
                assert manager.poll() is None, f"{wm} exited with {manager.returncode}"
                assert time.monotonic() < deadline, f"{wm} did not take the screen"
                time.sleep(0.1)
        yield display
    finally:
        for proc in (manager, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        shutil.rmtree(home, ignore_errors=True)


def input_focus(display: Display) -> int:
    """The X window that has the keyboard now (0: none; 1: whatever is under the pointer)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    assert name is not None, "libX11 is missing"
    x11 = ctypes.CDLL(name)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XGetInputFocus.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong),
                                   ctypes.POINTER(ctypes.c_int)]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(display.name.encode())
    assert dpy, f"cannot open {display.name}"
    try:
        window, revert = ctypes.c_ulong(), ctypes.c_int()
        x11.XGetInputFocus(dpy, ctypes.byref(window), ctypes.byref(revert))
        return int(window.value)
    finally:
        x11.XCloseDisplay(dpy)
