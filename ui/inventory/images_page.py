"""The engine's images: what is there, how big, who uses it; remove what nothing needs."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.inventory.feed import FeedState
from app.inventory.rows import ImageRow
from ui.bridge import CoreBridge, InventoryLike
from ui.dialogs import ask
from ui.formats import human_size
from ui.inventory.images_model import (
    CREATED,
    ID,
    IMAGE_COLUMNS,
    IMAGE_ROW_ROLE,
    IMAGE_SORT_ROLE,
    REPOSITORY,
    ImagesModel,
    image_reference,
    image_title,
)
from ui.inventory.widgets import (
    NARROW_WIDTH,
    GreyableDelegate,
    PageTop,
    StatusLine,
    configure_table,
    show_stale,
    touch_button,
)
from ui.operations import Operations

NARROW_HIDDEN = (ID, CREATED)


def count_text(rows: tuple[ImageRow, ...], shown: int) -> str:
    """The count above the table, in the table's own terms: one row per name (repository:tag),
    and one image may have several names. "5 rows, 2 images, 4.0 MB"; while a filter hides
    some, "3 of 5 rows"."""
    images = {r.id: r.size for r in rows}
    total = human_size(sum(images.values()))
    n = len(rows)
    if shown != n:
        return f"{shown} of {n} rows"
    if n == len(images):
        return f"{n} image{'s' if n != 1 else ''}, {total}"
    return f"{n} rows, {len(images)} image{'s' if len(images) != 1 else ''}, {total}"


class ImagesPage(QWidget):
    """``ImagesPage(bridge, inventory)``: the inventory's images arrive through the bridge,
    removals go to the inventory."""

    def __init__(self, bridge: CoreBridge, inventory: InventoryLike,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("images-page")
        self.bridge = bridge
        self.inventory = inventory
        self.ops = Operations(bridge)
        self._narrow: bool | None = None

        self.model = ImagesModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(IMAGE_SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(6)
        top = PageTop("Images", filter_name="images-filter",
                      placeholder="Filter by repository, tag or container",
                      count_name="images-total", refresh_name="img-refresh")
        self.filter, self.total_label, self.refresh_button = top.filter, top.count, top.refresh
        outer.addLayout(top.layout)

        self.status = StatusLine("images-status")
        outer.addWidget(self.status)

        self.table = QTableView()
        self.table.setObjectName("images-table")
        self.table.setAccessibleName("Images")
        self.table.setAccessibleDescription("The engine's images, one row per repository:tag")
        self.table.setModel(self.proxy)
        self.delegate = GreyableDelegate(self.table)
        self.table.setItemDelegate(self.delegate)
        configure_table(self.table)
        self.table.sortByColumn(REPOSITORY, Qt.SortOrder.AscendingOrder)
        self.error_label = QLabel("")
        self.error_label.setObjectName("images-error")
        self.error_label.setWordWrap(True)
        self.error_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.error_label)
        outer.addWidget(self.stack, 1)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.selection_label = QLabel("Tap an image to remove it.")
        self.selection_label.setObjectName("img-selected")
        self.selection_label.setWordWrap(True)
        self.remove_button = touch_button("Remove", "img-remove", danger=True)
        self.remove_button.setEnabled(False)
        bar.addWidget(self.selection_label, 1)
        bar.addWidget(self.remove_button)
        outer.addLayout(bar)

        bridge.images_changed.connect(self._on_images)
        bridge.feed_state.connect(self.show_state)
        self.filter.textChanged.connect(self._on_filter)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh_button.clicked.connect(self.refresh)

        self.selected: ImageRow | None = None
        self._rows: tuple[ImageRow, ...] = ()
        self._ignore_current = False
        self._on_images(tuple(self.inventory.images()))
        self.show_state(self.inventory.state())
        self.set_narrow(False)

    # -- layout --------------------------------------------------------------------------
    @property
    def narrow(self) -> bool:
        return bool(self._narrow)

    def set_narrow(self, narrow: bool) -> None:
        if narrow == self._narrow:
            return
        self._narrow = narrow
        for col in NARROW_HIDDEN:
            self.table.setColumnHidden(col, narrow)
        hh = self.table.horizontalHeader()
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(REPOSITORY, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(IMAGE_COLUMNS)):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        for col, width in ((1, 120), (2, 150), (3, 110), (4, 140), (5, 160)):
            self.table.setColumnWidth(col, width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.set_narrow(event.size().width() < NARROW_WIDTH)

    # -- feed ----------------------------------------------------------------------------
    def show_state(self, state: FeedState | None) -> None:
        self.status.show_feed(state)
        stale = state is not None and state.state == "stale"
        self.delegate.stale = stale
        show_stale(self.table, stale)
        if state is not None and state.state == "error":
            self.error_label.setText(state.reason or "The Docker engine reported an error; "
                                     "the list of images is unknown.")
            self.stack.setCurrentWidget(self.error_label)
        else:
            self.stack.setCurrentWidget(self.table)

    def refresh(self) -> None:
        self.status.show_message("Reading the images from the engine…")
        self.ops.run(self.inventory.refresh, owner=self,
                     on_success=lambda _r: self.status.show_message(""),
                     on_failure=lambda f: self.status.show_message(f.sentence, error=True))

    def _on_images(self, rows: tuple[ImageRow, ...]) -> None:
        gone = self.selected is not None and \
            image_reference(self.selected) not in {image_reference(r) for r in rows}
        # When the selected image goes, Qt would make a neighbour current: never let Remove
        # silently point at another image.
        self._ignore_current = gone
        try:
            self.model.set_images(rows)
            if gone:
                self.table.selectionModel().clear()
        finally:
            self._ignore_current = False
        self._rows = rows
        self._update_count()
        if self.selected is not None:
            ref = image_reference(self.selected)
            still = [r for r in rows if image_reference(r) == ref]
            self._show_selected(still[0] if still else None)

    def _on_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_count()

    def _update_count(self) -> None:
        self.total_label.setText(count_text(self._rows, self.proxy.rowCount()))
        images = {r.id: r.size for r in self._rows}
        self.total_label.setToolTip(
            f"One row per repository:tag; {len(images)} distinct images take "
            f"{human_size(sum(images.values()))} on the engine")

    # -- selection and removal -----------------------------------------------------------
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._ignore_current:
            return
        row = current.data(IMAGE_ROW_ROLE) if current.isValid() else None
        if isinstance(row, ImageRow) and row != self.selected:
            self.status.show_message("")
        self._show_selected(row if isinstance(row, ImageRow) else None)

    def _show_selected(self, row: ImageRow | None) -> None:
        self.selected = row
        self.remove_button.setEnabled(row is not None)
        if row is None:
            self.selection_label.setText("Tap an image to remove it.")
            return
        used = (f"used by {', '.join(row.used_by)}" if row.used_by
                else "not used by any container")
        self.selection_label.setText(f"<b>{image_title(row)}</b> · {human_size(row.size)} · "
                                     f"{used}")

    def select_reference(self, reference: str) -> bool:
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            row = index.data(IMAGE_ROW_ROLE)
            if isinstance(row, ImageRow) and image_reference(row) == reference:
                self.table.setCurrentIndex(index)
                return True
        return False

    def confirm(self, title: str, text: str, yes: str) -> bool:
        """Ask a yes/no question (tests replace this method)."""
        return ask(self, title, text, yes)

    def remove_selected(self) -> None:
        row = self.selected
        if row is None:
            return
        title = image_title(row)
        text = (f"This removes the image {title} ({human_size(row.size)}) from the engine. "
                "A container that needs it later pulls it again.")
        if row.used_by:
            text += f" It is used by {', '.join(row.used_by)}: the engine may refuse."
        if not self.confirm(f"Remove {title}?", text, "Remove"):
            return
        self.status.show_message(f"Removing {title}…")
        reference = image_reference(row)
        self.ops.run(lambda: self.inventory.remove_image(reference), owner=self,
                     on_success=lambda _r: self.status.show_message(f"{title} removed."),
                     on_failure=lambda f: self.status.show_message(f.sentence, error=True))
