"""One container instance's page: live state, form, Apply, Reset, Start/Stop, Delete."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QProgressBar, QPushButton, QWidget

from app.metatype import ComponentDescriptor
from app.orchestrator.state import InstanceStatus, Phase
from ui.badges import badge_colour, badge_key, badge_text, status_sentence
from ui.form import TOUCH_MIN
from ui.form_page import FormPage


def _bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class InstancePage(FormPage):
    delete_requested = Signal()
    start_requested = Signal()
    stop_requested = Signal()

    def __init__(self, component: ComponentDescriptor, name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(component, name, "", parent)
        self.setObjectName("instance-page")
        self.name = name
        self.status: InstanceStatus | None = None
        self.progress = QProgressBar()
        self.progress.setObjectName("pull-progress")
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)
        self.extra.addWidget(self.progress)

        self.start_stop = QPushButton("Stop")
        self.start_stop.setObjectName("start-stop")
        self.start_stop.setMinimumHeight(TOUCH_MIN)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("delete")
        self.delete_button.setMinimumHeight(TOUCH_MIN)
        self.delete_button.setProperty("role", "danger")
        self.bar.addWidget(self.start_stop)
        self.bar.addWidget(self.delete_button)
        self.delete_button.clicked.connect(self.delete_requested)
        self.start_stop.clicked.connect(self._on_start_stop)
        self.show_status(None)

    def _on_start_stop(self) -> None:
        if self.status is not None and self.status.phase in (
                Phase.RUNNING, Phase.RESTARTING):
            self.stop_requested.emit()
        else:
            self.start_requested.emit()

    def show_status(self, status: InstanceStatus | None) -> None:
        self.status = status
        self.set_badge(badge_text(status), badge_key(status), badge_colour(status).name())
        self.status_line.setText(status_sentence(status))
        running = status is not None and status.phase in (Phase.RUNNING, Phase.RESTARTING)
        can_start = status is not None and status.phase in (
            Phase.STOPPED_BY_PERSON, Phase.EXITED, Phase.FAILED, Phase.RETRY_WAIT)
        self.start_stop.setText("Stop" if running else "Start")
        self.start_stop.setEnabled(running or can_start)
        pulling = status is not None and status.phase is Phase.PULLING
        self.progress.setVisible(pulling)
        if pulling and status is not None:
            p = status.progress
            if p is not None and p.total:
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(1000 * p.current / max(p.total, 1)))
                self.progress.setFormat(f"{_bytes(p.current)} of {_bytes(p.total)}  (%p%)")
            else:
                self.progress.setRange(0, 0)  # busy: the registry has not said sizes yet
