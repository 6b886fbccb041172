"""One container instance's page: live state, form, Apply, Reset, Start/Stop, History, Delete.

Everything it shows of the instance's state comes through :meth:`InstancePage.show_status`,
the pull's progress too (a pulling instance's status carries it): one path per update.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QStackedWidget, QVBoxLayout, QWidget

from app.metatype import ComponentDescriptor
from app.orchestrator.state import InstanceStatus, Phase
from ui.services.badges import badge_key, badge_text, status_sentence
from ui.services.form_page import FormPage
from ui.services.pull_progress import PullProgressView
from ui.services.timeline import TimelineView
from ui.style import TOUCH_MIN

START_STOP_LABELS = {"stop": "Stop", "start": "Start", "retry": "Retry",
                     "stopping": "Stopping…", "none": "Start"}
START_STOP_TIPS = {
    "stop": "Stop the container; it stays stopped until you start it",
    "start": "Start the container",
    "retry": "Try again with the stored settings (new attempts)",
    "stopping": "The container is stopping",
    "none": "Nothing to start now",
}


def start_stop_action(status: InstanceStatus | None) -> str:
    """What the Start/Stop button does in this state: stop, start, retry, or nothing (none,
    and stopping: a second Stop would only queue behind the first)."""
    if status is None:
        return "none"
    phase = status.phase
    if phase is Phase.STOPPING:
        return "stopping"
    if phase in (Phase.RUNNING, Phase.RESTARTING):
        return "stop"
    if phase is Phase.FAILED:
        return "retry"
    if phase in (Phase.STOPPED_BY_PERSON, Phase.EXITED, Phase.RETRY_WAIT):
        return "start"
    return "none"


class InstancePage(FormPage):
    delete_requested = Signal()
    history_requested = Signal()
    start_requested = Signal()
    stop_requested = Signal()
    retry_requested = Signal()

    def __init__(self, component: ComponentDescriptor, name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(component, name, "", parent)
        self.setObjectName("instance-page")
        self.name = name
        self.status: InstanceStatus | None = None
        # While pulling: per-layer and total progress with bytes.
        self.pull_view = PullProgressView()
        self.pull_view.setVisible(False)
        self.extra.addWidget(self.pull_view)

        # The form and the instance's history share the page's body.
        self.timeline = TimelineView()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.removeWidget(self.form)
        self.body = QStackedWidget()
        self.body.addWidget(self.form)
        self.body.addWidget(self.timeline)
        layout.insertWidget(layout.indexOf(self.bar_anchor), self.body, 1)
        self.history_button = QPushButton("History")
        self.history_button.setObjectName("history")
        self.history_button.setCheckable(True)
        self.history_button.setMinimumHeight(TOUCH_MIN)
        self.history_button.toggled.connect(self._on_history_toggled)

        self.start_stop = QPushButton("Stop")
        self.start_stop.setObjectName("start-stop")
        self.start_stop.setMinimumHeight(TOUCH_MIN)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("delete")
        self.delete_button.setMinimumHeight(TOUCH_MIN)
        self.delete_button.setProperty("role", "danger")
        self.bar.addWidget(self.history_button)
        self.bar.addWidget(self.start_stop)
        self.bar.addWidget(self.delete_button)
        self.delete_button.clicked.connect(self.delete_requested)
        self.start_stop.clicked.connect(self._on_start_stop)
        self.show_status(None)

    def _on_history_toggled(self, shown: bool) -> None:
        self.body.setCurrentWidget(self.timeline if shown else self.form)
        if shown:
            self.history_requested.emit()

    def _on_start_stop(self) -> None:
        action = start_stop_action(self.status)
        signal = {"stop": self.stop_requested, "retry": self.retry_requested,
                  "start": self.start_requested}.get(action)
        if signal is not None:
            signal.emit()

    def show_status(self, status: InstanceStatus | None) -> None:
        self.status = status
        self.set_badge(badge_text(status), badge_key(status))
        self.status_line.setText(status_sentence(status))
        action = start_stop_action(status)
        self.start_stop.setText(START_STOP_LABELS[action])
        self.start_stop.setEnabled(action not in ("stopping", "none"))
        self.start_stop.setToolTip(START_STOP_TIPS[action])
        pulling = status is not None and status.phase is Phase.PULLING
        self.pull_view.setVisible(pulling)
        if pulling and status is not None and status.progress is not None:
            self.pull_view.update_progress(status.progress)
