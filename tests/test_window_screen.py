"""The real `moorings` window on a real X display (Xvfb): it fills a small panel whatever the
window manager (none, as in a kiosk started with `xinit`; matchbox; openbox), and on a laptop
its frame stays on the screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import ROOT
from moorings_process import MooringsProcess
from xsession import Display, Rect, input_focus, x_display

pytestmark = [pytest.mark.gui, pytest.mark.xvfb]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """An empty configuration whose engine is a socket nobody listens on: the window opens,
    the orchestrator waits for an engine, and no container or network is touched."""
    cfg = tmp_path / "cfg"
    doc = {"service": {"container.engine.host": f"unix://{tmp_path}/no-engine.sock"},
           "instances": {}}
    src = tmp_path / "import.json"
    src.write_text(json.dumps(doc), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "app", "--config-dir", str(cfg), "config",
                        "import", str(src)], capture_output=True, text=True, timeout=60,
                       check=False, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return cfg


@pytest.fixture
def launch(config: Path) -> Iterator[Callable[[Display, tuple[str, ...]], MooringsProcess]]:
    started: list[MooringsProcess] = []

    def run(display: Display, flags: tuple[str, ...]) -> MooringsProcess:
        proc = MooringsProcess(config, "--normal-priority", *flags, module="ui.launcher",
                               env=display.env)
        started.append(proc)
        return proc
    yield run
    for proc in started:
        proc.close()


def _settled(display: Display, proc: MooringsProcess,
             good: Callable[[Rect, Rect], bool]) -> tuple[Rect, Rect, str]:
    """Wait until the window's client and frame rectangles satisfy ``good`` (the window
    manager places a window asynchronously), then return them as they are."""
    deadline = time.monotonic() + 40
    client = frame = Rect(0, 0, 0, 0)
    window = ""
    while time.monotonic() < deadline:
        assert proc.proc.poll() is None, f"moorings exited:\n{proc.text()}"
        ids = display.client_windows("Moorings")
        if ids:
            window = ids[0]
            client, frame = display.geometry(window), display.frame(window)
            if good(client, frame):
                # Once more, a moment later: a late move by the window manager counts too.
                time.sleep(0.5)
                client, frame = display.geometry(window), display.frame(window)
                if good(client, frame):
                    break
        time.sleep(0.2)
    return client, frame, window


def _inside(inner: Rect, outer: Rect) -> bool:
    return (inner.x >= outer.x and inner.y >= outer.y and inner.right <= outer.right
            and inner.bottom <= outer.bottom)


# A title bar and borders a window manager may add around a maximised window.
DECORATION_ALLOWANCE = 40


@pytest.mark.parametrize("wm", ["none", "matchbox", "openbox"])
@pytest.mark.parametrize("flags", [("--touch",), ("--touch", "--fullscreen")],
                         ids=["touch", "touch-fullscreen"])
def test_the_window_fills_a_small_panel_whatever_the_window_manager(
        wm: str, flags: tuple[str, ...],
        launch: Callable[[Display, tuple[str, ...]], MooringsProcess]) -> None:
    with x_display(800, 480, wm) as display:
        proc = launch(display, flags)
        screen = Rect(0, 0, display.width, display.height)
        if "--fullscreen" in flags:
            def good(client: Rect, _frame: Rect) -> bool:
                return client == screen
        else:
            def good(client: Rect, frame: Rect) -> bool:
                area = display.work_area()
                return (_inside(frame, screen) and _inside(client, area)
                        and client.width >= area.width - DECORATION_ALLOWANCE
                        and client.height >= area.height - DECORATION_ALLOWANCE)
        client, frame, window = _settled(display, proc, good)
        assert window, f"no Moorings window appeared:\n{proc.text()}"
        assert good(client, frame), (
            f"{wm} {' '.join(flags)}: the window is {client} (frame {frame}) on a "
            f"{display.width}x{display.height} screen whose work area is "
            f"{display.work_area()}")
        if wm == "none":
            # Nobody else gives the window the keyboard: it must have taken it itself.
            deadline = time.monotonic() + 20
            while input_focus(display) != int(window, 16) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert input_focus(display) == int(window, 16), "the window has no keyboard focus"


@pytest.mark.parametrize("wm", ["none", "matchbox", "openbox"])
def test_on_a_laptop_screen_the_whole_window_and_its_frame_are_on_screen(
        wm: str, launch: Callable[[Display, tuple[str, ...]], MooringsProcess]) -> None:
    with x_display(1280, 800, wm) as display:
        proc = launch(display, ())
        screen = Rect(0, 0, display.width, display.height)

        def good(client: Rect, frame: Rect) -> bool:
            area = display.work_area()
            return (_inside(frame, screen) and _inside(client, area)
                    and client.width >= area.width - DECORATION_ALLOWANCE
                    and client.height >= area.height - DECORATION_ALLOWANCE)
        client, frame, window = _settled(display, proc, good)
        assert window, f"no Moorings window appeared:\n{proc.text()}"
        assert good(client, frame), (
            f"{wm}: the window is {client} with its frame at {frame} on a 1280x800 screen")


def test_on_a_big_screen_a_laptop_sized_window_fits_with_its_frame(
        launch: Callable[[Display, tuple[str, ...]], MooringsProcess]) -> None:
    with x_display(1366, 868, "openbox") as display:
        proc = launch(display, ())
        screen = Rect(0, 0, display.width, display.height)

        def good(client: Rect, frame: Rect) -> bool:
            return (_inside(frame, screen) and client.width == 1280
                    and client.height >= 800 - DECORATION_ALLOWANCE and frame.height > 0)
        client, frame, window = _settled(display, proc, good)
        assert window, f"no Moorings window appeared:\n{proc.text()}"
        assert good(client, frame), f"the window is {client} with its frame at {frame}"


def test_on_screen_keyboard_taps_type_and_keep_the_dialog_in_sight() -> None:
    """With Qt's on-screen keyboard and no window manager: one tap on a form field opens the
    keyboard; the factory dialog's name, error line and Create stay above it; g, u, i typed
    on the keyboard give "gui" (a container name is not capitalised)."""
    with x_display(800, 480, "none") as display:
        r = subprocess.run([sys.executable, str(ROOT / "tests" / "keyboard_session.py")],
                           capture_output=True, text=True, timeout=180, cwd=ROOT,
                           env={**os.environ, **display.env}, check=False)
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert r.returncode == 0, r.stdout + r.stderr
    assert lines, r.stdout + r.stderr
    seen = json.loads(lines[-1])
    assert seen["window_active"], "the window did not get the keyboard focus"
    assert seen["first_tap_focus"], seen
    assert seen["first_tap_keyboard"], (
        f"one tap on Memory at {seen['field_before_tap']} opened no keyboard")
    assert seen["field_above_keyboard"], seen
    assert seen["dialog_keyboard"], seen
    assert seen["dialog_parts_visible"], seen
    assert "not a valid container name" in seen["dialog_error_text"]
    assert seen["dialog_above_keyboard"], (
        f"under the keyboard at {seen['dialog_keyboard_rect']}: {seen['dialog_parts']}")
    assert seen["typed"], "the keyboard's keys were not found"
    assert seen["typed_text"] == "gui"
