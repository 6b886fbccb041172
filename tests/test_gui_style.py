"""Colours and sizes live in two places: resources/styles/moorings.qss and ui/style.py, and
they agree; ui/ has no widget style sheet, no colour and no touch size of its own; every
Future in ui/ comes home through ui/operations.py; every module stays small."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.orchestrator.state import InstanceStatus, Phase
from ui import style
from ui.application import load_style
from ui.services.badges import badge_colour, badge_key

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui"
HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


def _ui_sources() -> dict[str, str]:
    files = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
             for p in sorted(UI.rglob("*.py")) if "__pycache__" not in p.parts}
    assert len(files) > 30, "too few files: the walk is wrong"
    return files


def _code(text: str) -> str:
    """The source without its comments and docstrings' prose mattering: comments removed."""
    return "\n".join(line.split("  #")[0] for line in text.splitlines()
                     if not line.lstrip().startswith("#"))


def test_no_widget_has_a_style_sheet_of_its_own() -> None:
    found = [f"{path}:{n}" for path, text in _ui_sources().items()
             for n, line in enumerate(text.splitlines(), 1) if "setStyleSheet(" in line]
    # One: the application's, which loads moorings.qss.
    assert len(found) == 1, found
    assert found[0].startswith("ui/application.py:"), found


def test_colours_and_touch_sizes_are_only_in_ui_style() -> None:
    colours, sizes = [], []
    for path, text in _ui_sources().items():
        if path == "ui/style.py":
            continue
        code = _code(text)
        colours += [f"{path}: {m}" for m in HEX.findall(code)]
        if re.search(r"^\s*TOUCH_MIN\s*=", code, re.MULTILINE) or re.search(
                r"\b(setMinimumHeight|setMinimumSize|setFixedHeight)\((44|48)\b", code):
            sizes.append(path)
    assert colours == []
    assert sizes == []


def test_every_future_in_ui_comes_home_through_operations() -> None:
    waits = [f"{path}:{n}" for path, text in _ui_sources().items()
             if path not in ("ui/operations.py", "ui/bridge.py")
             for n, line in enumerate(_code(text).splitlines(), 1)
             if re.search(r"\.when_done\(|add_done_callback\(|\.result\(|\.exception\(\)", line)]
    assert waits == []


def test_ui_keeps_no_copy_of_what_the_core_defines() -> None:
    """The integral types' limits are ``FieldType.integral_limits`` (app/metatype.py)."""
    copies = [f"{path}:{n}" for path, text in _ui_sources().items()
              for n, line in enumerate(_code(text).splitlines(), 1)
              if re.search(r"2\s*\*\*\s*\(?\s*(7|8|15|16|31|32|63|64)\b|INTEGRAL_LIMITS", line)]
    assert copies == []


def test_ui_modules_stay_small() -> None:
    big = {path: text.count("\n") for path, text in _ui_sources().items()
           if text.count("\n") > 620}
    assert big == {}


# --- the style sheet and ui/style.py agree -----------------------------------------------

def _pill_colour(qtbot: QtBot, host: QWidget, label: QLabel) -> QColor:
    label.setParent(host)
    label.adjustSize()
    label.show()
    QApplication.processEvents()
    image = label.grab().toImage()
    return image.pixelColor(4, image.height() // 2)


@pytest.fixture
def styled_host(qtbot: QtBot) -> QWidget:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(load_style())
    host = QWidget()
    qtbot.addWidget(host)
    host.resize(400, 100)
    host.show()
    qtbot.waitExposed(host)
    return host


def test_every_badge_is_painted_as_the_tree_paints_it(qtbot: QtBot, styled_host: QWidget) -> None:
    statuses = [InstanceStatus("web", phase) for phase in Phase]
    statuses += [InstanceStatus("web", Phase.EXITED, exit_code=0), None]
    keys = {badge_key(s) for s in statuses}
    assert keys == set(style.BADGE_TONES), "a badge without a colour, or a colour for none"
    for status in statuses:
        key = badge_key(status)
        label = QLabel("running")
        label.setObjectName("badge")  # as on an instance's page
        label.setProperty("badge", key)
        shown = _pill_colour(qtbot, styled_host, label)
        tree = badge_colour(status)  # the tree's pill, painted by its delegate
        assert shown.name() == tree.name(), f"{key}: the page shows {shown.name()}"


@pytest.mark.parametrize("name", ["timeline-kind", "inv-details-state"])
def test_every_tone_of_a_pill_is_the_style_module_s(qtbot: QtBot, styled_host: QWidget,
                                                    name: str) -> None:
    for tone, colour in style.TONES.items():
        label = QLabel("started")
        label.setObjectName(name)
        label.setProperty("tone", tone)
        shown = _pill_colour(qtbot, styled_host, label)
        assert shown.name() == colour, f"{name} {tone}: {shown.name()}"


def test_a_property_change_restyles_without_a_style_sheet(qtbot: QtBot,
                                                          styled_host: QWidget) -> None:
    label = QLabel("state", styled_host)
    label.setObjectName("inv-details-state")
    for tone in ("good", "bad", "good"):
        style.set_style_property(label, "tone", tone)
        assert _pill_colour(qtbot, styled_host, label).name() == style.TONES[tone]
    assert label.styleSheet() == ""


def test_the_header_is_painted_in_the_style_sheet_s_colour(qtbot: QtBot,
                                                           styled_host: QWidget) -> None:
    """A QWidget subclass paints a style sheet's background only when asked to: the header
    (ui/header.py) must, or its white words stand on the window's light grey."""
    from ui.header import Header

    found = re.search(r"QWidget#header\s*\{\s*background:\s*(#[0-9a-fA-F]{6})", load_style())
    assert found is not None, "the style sheet no longer colours the header"
    header = Header(styled_host)
    header.setGeometry(0, 0, 400, 60)
    header.show()
    QApplication.processEvents()
    # As the window shows it (a grab of the header alone would fill its background anyway),
    # at its top edge between the section buttons and the engine's address.
    image = styled_host.grab().toImage()
    assert image.pixelColor(200, 1).name() == found.group(1).lower()


def test_the_new_container_dialog_has_an_edge_of_its_own(qtbot: QtBot,
                                                         styled_host: QWidget) -> None:
    """Without a window manager (the panel) a dialog has no frame: the style sheet gives it
    an edge, or it runs into the page under it."""
    from app.metatype import load_catalog
    from ui.services.factory_dialog import FactoryDialog

    found = re.search(r"QDialog#factory-dialog[^{]*\{\s*border:\s*\d+px solid (#[0-9a-fA-F]{6})",
                      load_style())
    assert found is not None, "the style sheet gives the dialog no edge"
    dialog = FactoryDialog(load_catalog().factories(), lambda _n, _f: [])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    image = dialog.grab().toImage()
    edge = found.group(1).lower()
    assert image.pixelColor(0, image.height() // 2).name() == edge
    assert image.pixelColor(image.width() // 2, image.height() - 1).name() == edge
