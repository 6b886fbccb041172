"""The form editor generated from the field descriptors (ui/form), driven offscreen.

Field ids appear here (the tests know the real descriptors); they must never appear in
ui/form itself, which :func:`test_no_field_id_in_form_code` checks.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.errors import FieldError
from app.metatype import (
    INSTANCE_FACTORY_PID,
    METATYPE_DIR,
    RESOURCES_DIR,
    SERVICE_PID,
    ComponentDescriptor,
    FieldType,
    load_catalog,
)
from ui.form import ComponentForm, ToggleSwitch

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parent.parent
QSS = RESOURCES_DIR / "styles" / "moorings.qss"
SECRET = "Hunter2-s3cret!"

PORTS_IN = "container.ports.internal"
PORTS_OUT = "container.ports.external"
MEMORY = "container.memory"
CPUS = "container.cpus"
RETRIES = "container.image.download.retries"
INTERVAL = "container.image.download.interval"
PASSWORD = "registry.password"
LOGGER = "container.loggingType"
PRIVILEGED = "container.privileged"
ENV = "container.env"
ENABLED = "container.enabled"


@pytest.fixture(scope="module")
def instance() -> ComponentDescriptor:
    return load_catalog().by_pid(INSTANCE_FACTORY_PID)


@pytest.fixture(scope="module")
def service() -> ComponentDescriptor:
    return load_catalog().by_pid(SERVICE_PID)


@pytest.fixture
def make_form(qtbot: QtBot) -> Callable[..., ComponentForm]:
    def make(component: ComponentDescriptor, name: str | None = "web") -> ComponentForm:
        form = ComponentForm(component, name)
        qtbot.addWidget(form)
        return form

    return make


@pytest.fixture
def form(make_form: Callable[..., ComponentForm], instance: ComponentDescriptor) -> ComponentForm:
    return make_form(instance)


def _line(form: ComponentForm, field_id: str) -> QLineEdit:
    w = form.editor(field_id)
    assert isinstance(w, QLineEdit)
    return w


def _type(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Replace the widget's content the way a person does: select all, then type."""
    if isinstance(widget, (QLineEdit, QPlainTextEdit)):
        widget.selectAll()
        if not text:
            qtbot.keyClick(widget, Qt.Key.Key_Backspace)
    qtbot.keyClicks(widget, text)


def _error(form: ComponentForm, field_id: str) -> QLabel:
    label = form.findChild(QLabel, f"error:{field_id}")
    assert label is not None
    return label


def _all_visible_texts(form: ComponentForm) -> Iterator[str]:
    for w in [form, *form.findChildren(QWidget)]:
        yield w.toolTip()
        yield w.statusTip()
        yield w.whatsThis()
        yield w.accessibleName()
        yield w.accessibleDescription()
        yield w.windowTitle()
        if isinstance(w, QLabel):
            yield w.text()
        if isinstance(w, QLineEdit):
            yield w.placeholderText()
        if isinstance(w, QAbstractButton):
            yield w.text()
        if isinstance(w, QComboBox):
            yield from (w.itemText(i) for i in range(w.count()))


# --- built from the descriptors ------------------------------------------------------------


@pytest.mark.parametrize("pid", [INSTANCE_FACTORY_PID, SERVICE_PID])
def test_one_editor_per_ad_of_the_right_kind(
    make_form: Callable[..., ComponentForm], pid: str
) -> None:
    component = load_catalog().by_pid(pid)
    form = make_form(component)
    assert form.objectName() == "form"
    editors = [w for w in form.findChildren(QWidget) if w.objectName().startswith("field:")]
    assert sorted(w.objectName() for w in editors) == sorted(
        f"field:{ad.id}" for ad in component.fields
    )
    for ad in component.fields:
        w = form.editor(ad.id)
        assert w.objectName() == f"field:{ad.id}"
        assert form.findChild(QLabel, f"error:{ad.id}") is not None
        if ad.type is FieldType.BOOLEAN:
            assert isinstance(w, ToggleSwitch)
            assert w.isCheckable()
        elif ad.options:
            assert isinstance(w, QComboBox)
        elif ad.type is FieldType.PASSWORD:
            assert isinstance(w, QLineEdit)
            assert w.echoMode() == QLineEdit.EchoMode.Password
            assert form.findChild(QToolButton, f"reveal:{ad.id}") is not None
        elif ad.type.is_integral:
            assert isinstance(w, QLineEdit)
            assert w.validator() is not None
            assert form.findChild(QToolButton, f"step-up:{ad.id}") is not None
            assert form.findChild(QToolButton, f"step-down:{ad.id}") is not None
        elif ad.type.is_decimal:
            assert isinstance(w, QLineEdit)
            assert w.validator() is not None
        elif ad.widget == "multiline":
            assert isinstance(w, QPlainTextEdit)
        else:
            assert isinstance(w, QLineEdit)
            assert w.echoMode() == QLineEdit.EchoMode.Normal
        name = form.findChild(QLabel, f"name:{ad.id}")
        assert name is not None
        assert name.text() == ad.name
        assert name.font().bold()
        help_label = form.findChild(QLabel, f"help:{ad.id}")
        assert help_label is not None
        assert help_label.text() == ad.description
        assert help_label.wordWrap()
        assert form.findChild(QLabel, f"default:{ad.id}") is not None


def test_logger_type_is_a_combo_of_its_14_options(
    form: ComponentForm, instance: ComponentDescriptor
) -> None:
    combo = form.editor(LOGGER)
    assert isinstance(combo, QComboBox)
    options = instance.field(LOGGER).options
    assert len(options) == 14
    assert [combo.itemText(i) for i in range(combo.count())] == [o.label for o in options]
    assert [combo.itemData(i) for i in range(combo.count())] == [o.value for o in options]
    assert combo.currentData() == "DEFAULT"


def test_defaults_required_and_units_are_shown(form: ComponentForm) -> None:
    def label(name: str) -> QLabel | None:
        return form.findChild(QLabel, name)

    assert label(f"default:{PORTS_IN}").text() == "Default: 80:tcp"  # type: ignore[union-attr]
    assert label(f"default:{MEMORY}").text() == "Default: empty"  # type: ignore[union-attr]
    assert label(f"default:{INTERVAL}").text() == "Default: 30000 ms"  # type: ignore[union-attr]
    assert label(f"default:{ENABLED}").text() == "Default: Off"  # type: ignore[union-attr]
    assert label(f"required:{RETRIES}") is not None
    assert label(f"required:{MEMORY}") is None
    assert label(f"unit:{INTERVAL}").text() == "ms"  # type: ignore[union-attr]
    assert label(f"duration:{INTERVAL}").text() == "(30 s)"  # type: ignore[union-attr]


def test_an_extra_ad_in_the_descriptors_gets_its_editor(
    tmp_path: Path, make_form: Callable[..., ComponentForm]
) -> None:
    folder = tmp_path / "metatype"
    shutil.copytree(METATYPE_DIR, folder)
    xml = folder / f"{INSTANCE_FACTORY_PID}.xml"
    extra = (
        '<AD id="container.shm.size" name="Shared Memory Size" type="Long" cardinality="0" '
        'required="false" default="64" min="1" moorings:unit="s" '
        'description="Size of /dev/shm in megabytes, for programs that share memory."/>\n'
        '        <AD id="container.pull.policy" name="Pull Policy" type="String" '
        'required="false" default="missing" description="When to pull the image.">\n'
        '            <Option label="If missing" value="missing"/>\n'
        '            <Option label="Always" value="always"/>\n'
        "        </AD>\n    </OCD>"
    )
    text = xml.read_text(encoding="utf-8")
    xml.write_text(text.replace("</OCD>", extra, 1), encoding="utf-8")
    component = load_catalog(folder).by_pid(INSTANCE_FACTORY_PID)
    form = make_form(component)

    shm = form.editor("container.shm.size")
    assert isinstance(shm, QLineEdit)
    assert shm.text() == "64"
    name = form.findChild(QLabel, "name:container.shm.size")
    help_label = form.findChild(QLabel, "help:container.shm.size")
    default = form.findChild(QLabel, "default:container.shm.size")
    assert name is not None
    assert name.text() == "Shared Memory Size"
    assert help_label is not None
    assert "Size of /dev/shm" in help_label.text()
    assert default is not None
    assert default.text() == "Default: 64 s"
    policy = form.editor("container.pull.policy")
    assert isinstance(policy, QComboBox)
    assert [policy.itemText(i) for i in range(policy.count())][-2:] == ["If missing", "Always"]
    assert form.values()["container.shm.size"] == 64
    assert form.values()["container.pull.policy"] == "missing"
    assert form.is_valid()


# --- the password --------------------------------------------------------------------------


def test_password_is_masked_and_never_shown_elsewhere(
    form: ComponentForm, qtbot: QtBot, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    values = form.values()
    values[PASSWORD] = SECRET
    form.set_values(values)  # type: ignore[arg-type]
    form.resize(800, 480)
    form.show()
    qtbot.waitExposed(form)
    entry = _line(form, PASSWORD)
    assert entry.text() == SECRET
    assert entry.echoMode() == QLineEdit.EchoMode.Password
    assert entry.displayText() != SECRET
    # An error at the password field never echoes it either.
    form.show_errors([FieldError(PASSWORD, "Password", f"{SECRET} is refused", SECRET)])
    assert _error(form, PASSWORD).isVisibleTo(form)
    _type(qtbot, entry, SECRET + "x")
    form.validate()
    for text in _all_visible_texts(form):
        assert SECRET not in text
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert SECRET not in caplog.text


def test_reveal_shows_the_password_only_while_held(form: ComponentForm, qtbot: QtBot) -> None:
    form.show()
    entry = _line(form, PASSWORD)
    _type(qtbot, entry, SECRET)
    reveal = form.findChild(QToolButton, f"reveal:{PASSWORD}")
    assert reveal is not None
    assert SECRET not in reveal.toolTip()
    qtbot.mousePress(reveal, Qt.MouseButton.LeftButton)
    assert entry.echoMode() == QLineEdit.EchoMode.Normal
    assert entry.displayText() == SECRET
    qtbot.mouseRelease(reveal, Qt.MouseButton.LeftButton)
    assert entry.echoMode() == QLineEdit.EchoMode.Password
    assert entry.displayText() != SECRET
    # Held, then the form is hidden: masked again.
    qtbot.mousePress(reveal, Qt.MouseButton.LeftButton)
    form.hide()
    assert entry.echoMode() == QLineEdit.EchoMode.Password


# --- validation as the person types ----------------------------------------------------------


def test_bad_ports_show_at_the_field_after_a_pause_and_clear_when_fixed(
    form: ComponentForm, qtbot: QtBot
) -> None:
    form.show()
    assert form.is_valid()
    entry = _line(form, PORTS_IN)
    with qtbot.waitSignal(form.validity_changed, timeout=2000) as blocker:
        _type(qtbot, entry, "80-90x")
        # Debounced: nothing is shown while the person is typing; one single-shot timer
        # of about 200 ms, restarted at each key, runs the check.
        assert not _error(form, PORTS_IN).isVisibleTo(form)
        timer = form.findChild(QTimer, "form-debounce")
        assert timer is not None
        assert timer.isSingleShot()
        assert timer.isActive()
        assert 150 <= timer.interval() <= 400
        qtbot.wait(50)
        assert not _error(form, PORTS_IN).isVisibleTo(form)
    assert blocker.args == [False]
    label = _error(form, PORTS_IN)
    assert label.isVisibleTo(form)
    assert "80-90x" in label.text()
    assert entry.property("invalid") is True
    assert not form.is_valid()
    assert not _error(form, PORTS_OUT).isVisibleTo(form)

    with qtbot.waitSignal(form.validity_changed, timeout=2000) as blocker:
        _type(qtbot, entry, "80")
    assert blocker.args == [True]
    assert not label.isVisibleTo(form)
    assert entry.property("invalid") is False
    assert form.is_valid()


def test_bad_memory_names_the_value(form: ComponentForm, qtbot: QtBot) -> None:
    form.show()
    _type(qtbot, _line(form, MEMORY), "lots")
    qtbot.waitUntil(lambda: _error(form, MEMORY).isVisibleTo(form), timeout=2000)
    assert "lots" in _error(form, MEMORY).text()
    assert not form.is_valid()
    errors = form.validate()
    assert [e.field_id for e in errors] == [MEMORY]


def test_unequal_port_counts_show_at_external_ports(form: ComponentForm, qtbot: QtBot) -> None:
    form.show()
    _type(qtbot, _line(form, PORTS_IN), "80,81")
    qtbot.waitUntil(lambda: _error(form, PORTS_OUT).isVisibleTo(form), timeout=2000)
    assert not _error(form, PORTS_IN).isVisibleTo(form)
    assert "2 entries" in _error(form, PORTS_OUT).text()
    _type(qtbot, _line(form, PORTS_OUT), "8080,8081")
    qtbot.waitUntil(lambda: not _error(form, PORTS_OUT).isVisibleTo(form), timeout=2000)
    assert form.is_valid()


def test_errors_from_elsewhere_go_to_their_field_or_the_top(form: ComponentForm) -> None:
    form.show()
    message = form.findChild(QLabel, "form-message")
    assert message is not None
    assert not message.isVisibleTo(form)
    form.show_errors([
        FieldError("name", "Name", "web! is not a valid container name", None, "web!"),
        FieldError(PORTS_OUT, "External Ports", "8080 is already in use", "8080", "web"),
    ])
    assert message.isVisibleTo(form)
    assert "Name" in message.text()
    assert "not a valid container name" in message.text()
    assert _error(form, PORTS_OUT).isVisibleTo(form)
    assert "already in use" in _error(form, PORTS_OUT).text()
    form.set_values(form.values())  # type: ignore[arg-type]
    assert not message.isVisibleTo(form)
    assert not _error(form, PORTS_OUT).isVisibleTo(form)


def test_a_bad_instance_name_is_a_form_level_error(
    make_form: Callable[..., ComponentForm], instance: ComponentDescriptor
) -> None:
    form = make_form(instance, "bad name!")
    form.show()
    errors = form.validate()
    assert [e.field_id for e in errors] == ["name"]
    message = form.findChild(QLabel, "form-message")
    assert message is not None
    assert message.isVisibleTo(form)
    assert "bad name!" in message.text()


# --- values, dirty, reset ---------------------------------------------------------------------


def test_values_are_typed(form: ComponentForm, qtbot: QtBot) -> None:
    values = form.values()
    assert values[ENABLED] is False
    assert values[RETRIES] == 5
    assert type(values[RETRIES]) is int
    assert values[CPUS] == ""
    assert values[LOGGER] == "DEFAULT"
    assert values[PORTS_IN] == "80:tcp"
    _type(qtbot, _line(form, CPUS), "1.5")
    _type(qtbot, _line(form, RETRIES), "")
    qtbot.mouseClick(form.editor(ENABLED), Qt.MouseButton.LeftButton)
    values = form.values()
    assert values[CPUS] == 1.5
    assert type(values[CPUS]) is float
    assert values[RETRIES] == ""
    assert values[ENABLED] is True


def test_number_entries_refuse_letters(form: ComponentForm, qtbot: QtBot) -> None:
    _type(qtbot, _line(form, RETRIES), "7a")
    assert form.values()[RETRIES] == 7
    _type(qtbot, _line(form, CPUS), "x1.5")
    assert form.values()[CPUS] == 1.5


def test_steppers(form: ComponentForm, qtbot: QtBot) -> None:
    up = form.findChild(QToolButton, f"step-up:{RETRIES}")
    down = form.findChild(QToolButton, f"step-down:{RETRIES}")
    assert up is not None
    assert down is not None
    with qtbot.waitSignal(form.changed, timeout=1000):
        qtbot.mouseClick(up, Qt.MouseButton.LeftButton)
    assert form.values()[RETRIES] == 6
    _type(qtbot, _line(form, RETRIES), "0")
    assert not down.isEnabled()  # min="0"
    interval_up = form.findChild(QToolButton, f"step-up:{INTERVAL}")
    assert interval_up is not None
    qtbot.mouseClick(interval_up, Qt.MouseButton.LeftButton)
    assert form.values()[INTERVAL] == 31000  # ms: steps of one second
    assert form.is_dirty()


def test_set_values_dirty_and_reset(form: ComponentForm, qtbot: QtBot) -> None:
    changes: list[None] = []
    form.changed.connect(lambda: changes.append(None))
    stored = form.values()
    stored.update({RETRIES: "3", ENV: "A=1, B=2", LOGGER: "syslog", PRIVILEGED: True})
    form.set_values(stored)  # type: ignore[arg-type]
    assert changes == []  # set_values is not an edit by the person
    assert not form.is_dirty()
    values = form.values()
    assert values[RETRIES] == 3
    assert values[ENV] == "A=1, B=2"
    assert values[LOGGER] == "SYSLOG"
    assert values[PRIVILEGED] is True

    _type(qtbot, form.editor(ENV), "A=1")
    assert changes
    assert form.is_dirty()
    _type(qtbot, _line(form, PORTS_IN), "80-90x")
    form.validate()
    assert _error(form, PORTS_IN).text()

    form.reset()
    assert not form.is_dirty()
    assert form.values()[ENV] == "A=1, B=2"
    assert form.values()[PORTS_IN] == "80:tcp"
    assert not _error(form, PORTS_IN).isVisibleTo(form)
    assert not _error(form, PORTS_IN).text()
    assert form.is_valid()


def test_a_stored_value_outside_the_options_is_kept(form: ComponentForm) -> None:
    values = form.values()
    values[LOGGER] = "WEIRD"
    form.set_values(values)  # type: ignore[arg-type]
    assert form.values()[LOGGER] == "WEIRD"
    assert [e.field_id for e in form.validate()] == [LOGGER]
    values[LOGGER] = "LOKI"
    form.set_values(values)  # type: ignore[arg-type]
    combo = form.editor(LOGGER)
    assert isinstance(combo, QComboBox)
    assert combo.count() == 14


def test_missing_values_take_their_default(form: ComponentForm) -> None:
    form.set_values({RETRIES: 9})
    assert form.values()[RETRIES] == 9
    assert form.values()[PORTS_IN] == "80:tcp"
    assert not form.is_dirty()


# --- privileged mode asks first ---------------------------------------------------------------


def test_privileged_on_asks_and_refusing_reverts(
    form: ComponentForm, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
    instance: ComponentDescriptor,
) -> None:
    asked: list[str] = []
    answer = [False]

    def confirm(text: str, title: str = "") -> bool:
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(form, "_confirm_privileged", confirm)
    form.show()
    toggle = form.editor(PRIVILEGED)
    assert isinstance(toggle, ToggleSwitch)
    changes: list[None] = []
    form.changed.connect(lambda: changes.append(None))

    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert asked == [instance.field(PRIVILEGED).description]
    assert not toggle.isChecked()
    assert form.values()[PRIVILEGED] is False
    assert changes == []
    assert not form.is_dirty()

    answer[0] = True
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert toggle.isChecked()
    assert form.values()[PRIVILEGED] is True
    assert len(asked) == 2
    assert changes

    # Switching off never asks; neither do other switches, nor stored values.
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.editor(ENABLED), Qt.MouseButton.LeftButton)
    values = form.values()
    values[PRIVILEGED] = True
    form.set_values(values)  # type: ignore[arg-type]
    assert len(asked) == 2


@pytest.mark.parametrize("accept", [False, True])
def test_privileged_confirmation_box(form: ComponentForm, qtbot: QtBot, accept: bool) -> None:
    form.show()
    seen: dict[str, str] = {}

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen["name"] = box.objectName()
        seen["text"] = box.text() + "\n" + box.informativeText()
        name = "confirm-privileged-accept" if accept else "confirm-privileged-reject"
        button = box.findChild(QPushButton, name)
        assert button is not None
        seen["height"] = str(button.minimumHeight())
        button.click()

    QTimer.singleShot(0, answer)
    qtbot.mouseClick(form.editor(PRIVILEGED), Qt.MouseButton.LeftButton)
    assert seen["name"] == "confirm-privileged"
    assert "every capability" in seen["text"]
    assert int(seen["height"]) >= 44
    assert form.values()[PRIVILEGED] is accept


# --- touch layout --------------------------------------------------------------------------


def _touch_widgets(form: ComponentForm) -> list[QWidget]:
    kinds = (QLineEdit, QPlainTextEdit, QComboBox, QAbstractButton)
    return [w for w in form.findChildren(QWidget) if isinstance(w, kinds) and w.isVisibleTo(form)]


@pytest.mark.parametrize("styled", [False, True], ids=["plain", "qss"])
@pytest.mark.parametrize("pid", [INSTANCE_FACTORY_PID, SERVICE_PID])
def test_touch_targets_at_800x480(
    make_form: Callable[..., ComponentForm], qtbot: QtBot, styled: bool, pid: str
) -> None:
    form = make_form(load_catalog().by_pid(pid))
    if styled:
        form.setStyleSheet(QSS.read_text(encoding="utf-8"))
    form.resize(800, 480)
    form.show()
    qtbot.waitExposed(form)
    widgets = _touch_widgets(form)
    assert len(widgets) >= len(load_catalog().by_pid(pid).fields)
    small = [f"{w.objectName() or type(w).__name__}: {w.height()}" for w in widgets
             if w.height() < 44]
    assert not small, small
    viewport = form.scroll_area().viewport()
    for w in widgets:
        right = w.mapTo(viewport, w.rect().topRight()).x()
        assert right <= viewport.width(), f"{w.objectName()} is cut off on the right"
    # Wrapped help never clipped: each label is as tall as its text needs at its width.
    for label in form.findChildren(QLabel):
        if label.wordWrap() and label.isVisibleTo(form) and label.text():
            assert label.height() >= label.heightForWidth(label.width()) - 1, label.objectName()
    # Fonts not shrunk below the default.
    base = QApplication.font().pointSizeF()
    for label in form.findChildren(QLabel):
        if label.font().pointSizeF() > 0:
            assert label.font().pointSizeF() >= base


def test_wide_screen_caps_the_column(form: ComponentForm, qtbot: QtBot) -> None:
    form.resize(1600, 800)
    form.show()
    qtbot.waitExposed(form)
    content = form.findChild(QWidget, "form-content")
    assert content is not None
    assert 800 <= content.width() <= 900
    viewport = form.scroll_area().viewport()
    left = content.mapTo(viewport, content.rect().topLeft()).x()
    assert abs(left - (viewport.width() - content.width() - left)) <= 2  # centred


def test_focused_editor_is_scrolled_into_view(form: ComponentForm, qtbot: QtBot) -> None:
    form.resize(800, 480)
    form.show()
    qtbot.waitExposed(form)
    form.activateWindow()
    last = form.editor(form.component.fields[-2].id)
    bar = form.scroll_area().verticalScrollBar()
    assert bar.value() == 0
    last.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: bar.value() > 0, timeout=2000)
    viewport = form.scroll_area().viewport()
    top = last.mapTo(viewport, last.rect().topLeft()).y()
    assert top >= 0
    assert top + last.height() <= viewport.height()


# --- style sheet ---------------------------------------------------------------------------


def test_style_sheet_parses_and_styles_badges(qtbot: QtBot, form: ComponentForm) -> None:
    qss = QSS.read_text(encoding="utf-8")
    messages: list[str] = []
    from PySide6.QtCore import qInstallMessageHandler

    previous = qInstallMessageHandler(lambda _mode, _ctx, msg: messages.append(msg))
    try:
        host = QWidget()
        qtbot.addWidget(host)
        host.setStyleSheet(qss)
        badges: dict[str, QLabel] = {}
        for key in ("running", "failed", "pulling", "retry-wait", "conflict", "disabled"):
            label = QLabel(key, host)
            label.setProperty("badge", key)
            label.move(0, 30 * len(badges))
            badges[key] = label
        form.setStyleSheet(qss)
        host.resize(300, 300)
        host.show()
        form.show()
        qtbot.waitExposed(host)
        QApplication.processEvents()
    finally:
        qInstallMessageHandler(previous)
    assert not [m for m in messages if "parse" in m.lower()], messages

    def background(label: QLabel) -> QColor:
        image = label.grab().toImage()
        return image.pixelColor(3, image.height() // 2)

    def near(c: QColor, hex_colour: str) -> bool:
        want = QColor(hex_colour)
        return max(abs(c.red() - want.red()), abs(c.green() - want.green()),
                   abs(c.blue() - want.blue())) <= 40

    assert near(background(badges["running"]), "#1b7f3b")
    assert near(background(badges["failed"]), "#b00020")
    assert near(background(badges["pulling"]), "#1f5fbf")
    assert near(background(badges["conflict"]), "#7b1fa2")
    assert near(background(badges["disabled"]), "#5f6368")
    assert not near(background(badges["retry-wait"]), "#1b7f3b")


# --- nothing in ui/form knows a field id -----------------------------------------------------


def test_no_field_id_in_form_code() -> None:
    ids = {ad.id for c in load_catalog().components for ad in c.fields}
    problems = []
    for path in sorted((ROOT / "ui" / "form").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for field_id in ids:
            if re.search(rf"['\"]{re.escape(field_id)}['\"]", text):
                problems.append(f"{path.relative_to(ROOT)} names {field_id}")
    assert not problems, problems


def test_locale_does_not_change_decimals(form: ComponentForm, qtbot: QtBot) -> None:
    # The entry takes a dot whatever the locale: the stored value is Kura's.
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German))
    try:
        _type(qtbot, _line(form, CPUS), "2.25")
        assert form.values()[CPUS] == 2.25
    finally:
        QLocale.setDefault(before)


def test_focused_editor_stays_in_view_when_a_keyboard_shrinks_the_window(
    form: ComponentForm, qtbot: QtBot
) -> None:
    form.resize(800, 480)
    form.show()
    qtbot.waitExposed(form)
    form.activateWindow()
    entry = form.editor(PORTS_OUT)
    entry.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(entry.hasFocus, timeout=2000)
    viewport = form.scroll_area().viewport()

    def in_view() -> bool:
        top = entry.mapTo(viewport, entry.rect().topLeft()).y()
        return top >= 0 and top + entry.height() <= viewport.height()

    qtbot.waitUntil(in_view, timeout=2000)
    # The person scrolled so the entry sits near the bottom ...
    bar = form.scroll_area().verticalScrollBar()
    top = entry.mapTo(viewport, entry.rect().topLeft()).y()
    bar.setValue(bar.value() + top - (viewport.height() - entry.height() - 10))
    assert in_view()
    assert entry.mapTo(viewport, entry.rect().topLeft()).y() > 300
    # ... then an on-screen keyboard took the lower part of the screen.
    form.resize(800, 200)
    qtbot.waitUntil(in_view, timeout=2000)


def test_every_text_entry_is_technical_for_an_on_screen_keyboard(
        make_form: Callable[..., ComponentForm], instance: ComponentDescriptor,
        service: ComponentDescriptor) -> None:
    """Names, images, tags, ports and paths are case-sensitive: no entry lets a keyboard
    capitalise its first letter or predict words; ports and sizes open the digits first."""
    from PySide6.QtCore import Qt as _Qt

    no_caps = _Qt.InputMethodHint.ImhNoAutoUppercase
    no_words = _Qt.InputMethodHint.ImhNoPredictiveText
    for component in (instance, service):
        form = make_form(component)
        for desc in component.fields:
            widget = form.editor(desc.id)
            if not isinstance(widget, (QLineEdit, QPlainTextEdit)):
                continue
            hints = widget.inputMethodHints()
            if hints & (_Qt.InputMethodHint.ImhDigitsOnly
                        | _Qt.InputMethodHint.ImhFormattedNumbersOnly):
                continue  # a number: the keyboard shows digits only
            assert hints & no_caps, desc.id
            assert hints & no_words, desc.id
    form = make_form(instance)
    for field_id in (PORTS_IN, PORTS_OUT, MEMORY):
        assert form.editor(field_id).inputMethodHints() & _Qt.InputMethodHint.ImhPreferNumbers


def test_a_tap_on_a_low_field_scrolls_it_only_once_the_finger_is_lifted(
        form: ComponentForm, qtbot: QtBot) -> None:
    """The release of a tap opens the on-screen keyboard only when it lands on the field: the
    field must not be scrolled away between the press and the release."""
    from PySide6.QtTest import QTest

    form.resize(800, 430)
    form.show()
    qtbot.waitExposed(form)
    field = form.editor(MEMORY)
    qtbot.wait(100)  # the first field takes the focus (and is scrolled to) as the form shows
    # As a person scrolls to it: in sight, near the bottom of the panel.
    viewport = form.scroll_area().viewport()
    bar = form.scroll_area().verticalScrollBar()
    bottom = field.mapTo(viewport, field.rect().bottomLeft()).y()
    bar.setValue(bar.value() + bottom - (viewport.height() - 10))
    qtbot.waitUntil(lambda: viewport.rect().contains(
        field.mapTo(viewport, field.rect().bottomLeft())))
    window = form.windowHandle()
    at = window.mapFromGlobal(field.mapToGlobal(field.rect().center()))
    before = field.mapToGlobal(field.rect().topLeft())
    QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    qtbot.wait(150)
    assert field.hasFocus()
    assert field.mapToGlobal(field.rect().topLeft()) == before, "scrolled under the finger"
    QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    # Once lifted, a field low on a small panel goes up, where a keyboard cannot cover it.
    qtbot.waitUntil(lambda: field.mapToGlobal(field.rect().topLeft()).y() < before.y())


def test_a_deleted_form_leaves_nothing_running_behind(
        qtbot: QtBot, instance: ComponentDescriptor) -> None:
    """An instance page replaced by another one's is deleted: its multi-line editors must not
    fit themselves to a document that outlives them (an error in the event loop)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    form = ComponentForm(instance, "web")
    form.resize(800, 480)
    form.show()
    qtbot.waitExposed(form)
    _type(qtbot, form.editor(ENV), "A=1")
    form.resize(600, 480)  # a re-wrap is waiting for the next turn of the loop
    form.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.wait(20)
