"""The Containers page's details panel: the tapped container, and what can be done with it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from app.inventory.rows import ContainerRow
from ui.formats import DASH, clock, short_id, state_tone
from ui.inventory.containers_model import image_text, ports_text
from ui.inventory.widgets import ElidingButton, touch_button
from ui.style import TOUCH_MIN, set_style_property


class ContainerDetails(QFrame):
    """The tapped container: what it is, and big buttons for what can be done with it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("container-details")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 8, 10, 8)
        outer.setSpacing(6)

        self.placeholder = QLabel("Tap a container to see its details and what you can do "
                                  "with it.")
        self.placeholder.setObjectName("inv-details-placeholder")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)

        info = QWidget()
        info.setObjectName("inv-details-info")
        il = QVBoxLayout(info)
        il.setContentsMargins(0, 0, 0, 0)
        il.setSpacing(4)
        head = QHBoxLayout()
        self.name_label = QLabel("")
        self.name_label.setObjectName("inv-details-name")
        self.name_label.setWordWrap(True)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state_label = QLabel("")
        self.state_label.setObjectName("inv-details-state")
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head.addWidget(self.name_label, 1)
        head.addWidget(self.state_label, 0, Qt.AlignmentFlag.AlignTop)
        il.addLayout(head)
        self.status_text = QLabel("")
        self.status_text.setObjectName("inv-details-status")
        self.status_text.setWordWrap(True)
        il.addWidget(self.status_text)

        form = QFormLayout()
        form.setContentsMargins(0, 4, 0, 0)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(4)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QLabel] = {}
        for key, title in (("image", "Image"), ("ports", "Ports"), ("created", "Created"),
                           ("started", "Started"), ("id", "Id")):
            value = QLabel("")
            value.setObjectName(f"inv-details-{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            key_label = QLabel(title)
            key_label.setProperty("detail", "key")
            form.addRow(key_label, value)
            self.values[key] = value
        managed_key = QLabel("Managed by")
        managed_key.setProperty("detail", "key")
        self.managed_value = QLabel(DASH)
        self.managed_value.setObjectName("inv-details-managed")
        self.open_instance_button = ElidingButton()
        self.open_instance_button.setObjectName("inv-open-instance")
        self.open_instance_button.setMinimumHeight(TOUCH_MIN)
        self.open_instance_button.setToolTip("Open this instance in Services")
        managed_box = QHBoxLayout()
        managed_box.setContentsMargins(0, 0, 0, 0)
        managed_box.addWidget(self.managed_value)
        managed_box.addWidget(self.open_instance_button)
        managed_box.addStretch(1)
        form.addRow(managed_key, managed_box)
        il.addLayout(form)
        il.addStretch(1)

        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("inv-details-scroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it holds no control
        self.scroll_area.setWidget(info)
        QScroller.grabGesture(self.scroll_area.viewport(),
                              QScroller.ScrollerGestureType.TouchGesture)

        self.start_button = touch_button("Start", "inv-start")
        self.stop_button = touch_button("Stop", "inv-stop")
        self.restart_button = touch_button("Restart", "inv-restart")
        self.logs_button = touch_button("Logs", "inv-logs")
        self.remove_button = touch_button("Remove", "inv-remove", danger=True)
        self.buttons = QWidget()
        self.buttons.setObjectName("inv-actions")
        grid = QGridLayout(self.buttons)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        grid.addWidget(self.start_button, 0, 0)
        grid.addWidget(self.stop_button, 0, 1)
        grid.addWidget(self.restart_button, 0, 2)
        grid.addWidget(self.logs_button, 1, 0)
        grid.addWidget(self.remove_button, 1, 2)

        outer.addWidget(self.placeholder, 1)
        outer.addWidget(self.scroll_area, 1)
        outer.addWidget(self.buttons)
        self.row: ContainerRow | None = None
        self.show_row(None)

    def show_row(self, row: ContainerRow | None, *, gone: bool = False,
                 pending: str | None = None) -> None:
        """``pending``: the action under way on this container ("stopping", ...): its badge
        says so and no other action can be pressed until it is over."""
        self.row = row
        shown = row is not None
        self.placeholder.setVisible(not shown)
        self.scroll_area.setVisible(shown)
        self.buttons.setVisible(shown)
        if row is None:
            return
        self.name_label.setText(row.name)
        tone = "idle" if gone else "busy" if pending else state_tone(row.state, row.exit_code,
                                                                      row.health)
        self.state_label.setText("removed" if gone else pending or row.state_label())
        set_style_property(self.state_label, "tone", tone)
        self.status_text.setText("This container is no longer on the engine." if gone
                                 else row.status_text)
        self.values["image"].setText(image_text(row))
        self.values["ports"].setText(ports_text(row.ports).replace(", ", "\n") or DASH)
        self.values["created"].setText(clock(row.created))
        self.values["started"].setText(clock(row.started) if row.state == "running" else DASH)
        self.values["id"].setText(short_id(row.id))
        self.managed_value.setVisible(not row.instance)
        self.managed_value.setText("Moorings (no instance)" if row.managed else DASH)
        self.open_instance_button.setVisible(bool(row.instance))
        self.open_instance_button.set_full_text(f"Open {row.instance}  ›" if row.instance else "")
        running = row.state in ("running", "restarting", "paused")
        idle = not gone and not pending
        self.start_button.setEnabled(idle and not running and row.state != "removing")
        self.stop_button.setEnabled(idle and running)
        self.restart_button.setEnabled(idle and row.state in ("running", "exited", "dead",
                                                              "created"))
        self.logs_button.setEnabled(not gone)
        self.remove_button.setEnabled(idle and row.state != "removing")
        self.remove_button.setToolTip(
            f"Managed by the instance {row.instance}: remove it in Services" if row.instance
            else "Remove this container from the engine")
