"""A folder browser for a finger: the likely places as large buttons (USB sticks first, then
home), the folder's sub-folders and configuration files as 48 px rows, Up, and Browse… for
Qt's own dialog on a laptop. Listings come from the core's file thread, never this one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.config.places import Entry, Place
from ui.formats import human_size
from ui.style import ROW_HEIGHT, TOUCH_MIN

if TYPE_CHECKING:
    from app.orchestrator.transfers import Transfers
    from ui.operations import Failure, Operations

PATH_ROLE = Qt.ItemDataRole.UserRole
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 1
MOST_PLACES = 4  # buttons in the row; more sticks than that is not a gateway's case


class FileChooser(QWidget):
    """``chosen`` a file (import) or the folder changed (export: ``folders_only``)."""

    file_chosen = Signal(object)      # Path: a file was picked (tapped twice or Browse…)
    file_selected = Signal(object)    # Path | None: the highlighted file
    folder_changed = Signal(object)   # Path: the folder now listed

    def __init__(self, transfers: Transfers, ops: Operations, *, folders_only: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("file-chooser")
        self._transfers = transfers
        self._ops = ops
        self._folders_only = folders_only
        self.folder: Path | None = None
        self._asked: Path | None = None  # the folder last asked for: only its listing shows
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        self.places_row = QHBoxLayout()
        self.places_row.setSpacing(6)
        self.place_buttons: list[QPushButton] = []
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refresh-places")
        self.refresh_button.setMinimumHeight(TOUCH_MIN)
        self.refresh_button.setToolTip("Look again for USB sticks and other media")
        self.refresh_button.clicked.connect(self.refresh_places)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.setObjectName("browse")
        self.browse_button.setMinimumHeight(TOUCH_MIN)
        self.browse_button.setToolTip("Choose with the system's file dialog")
        self.browse_button.clicked.connect(self._browse)
        self.places_row.addStretch(1)
        self.places_row.addWidget(self.refresh_button)
        self.places_row.addWidget(self.browse_button)
        layout.addLayout(self.places_row)

        self.no_media = QLabel("No USB stick is mounted: insert one and press Refresh.")
        self.no_media.setObjectName("no-media")
        self.no_media.setProperty("role", "info")
        self.no_media.setWordWrap(True)
        self.no_media.setVisible(False)
        layout.addWidget(self.no_media)

        folder_row = QHBoxLayout()
        self.up_button = QPushButton("⬆ Up")
        self.up_button.setObjectName("folder-up")
        self.up_button.setMinimumHeight(TOUCH_MIN)
        self.up_button.setAccessibleName("Up to the parent folder")
        self.up_button.clicked.connect(self._up)
        self.folder_label = QLabel("")
        self.folder_label.setObjectName("folder-label")
        self.folder_label.setAccessibleName("Folder")
        self.folder_label.setWordWrap(True)
        folder_row.addWidget(self.up_button)
        folder_row.addWidget(self.folder_label, 1)
        layout.addLayout(folder_row)

        self.list = QListWidget()
        self.list.setObjectName("file-list")
        self.list.setAccessibleName("Folders and configuration files")
        self.list.setUniformItemSizes(True)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_activated)
        self.list.currentItemChanged.connect(self._on_current)
        layout.addWidget(self.list, 1)
        self.problem = QLabel("")
        self.problem.setObjectName("chooser-problem")
        self.problem.setProperty("role", "error")
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        layout.addWidget(self.problem)

    # -- places ------------------------------------------------------------------------
    def refresh_places(self) -> None:
        self._ops.run(self._transfers.places(), owner=self, on_success=self._show_places,
                      on_failure=self._show_problem)

    def _show_places(self, places: list[Place]) -> None:
        for button in self.place_buttons:
            self.places_row.removeWidget(button)
            button.deleteLater()
        self.place_buttons = []
        for i, place in enumerate(places[:MOST_PLACES]):
            button = QPushButton(place.label)
            button.setObjectName("place")
            button.setMinimumHeight(TOUCH_MIN)
            button.setToolTip(str(place.path))
            button.setAccessibleName(f"{place.label}: {place.path}")
            button.clicked.connect(lambda _=False, p=place.path: self.open_folder(p))
            self.places_row.insertWidget(i, button)
            self.place_buttons.append(button)
        media = [p for p in places if p.removable]
        self.no_media.setVisible(not media)
        if self._asked is None and places:
            self.open_folder(places[0].path)  # a stick if there is one

    # -- a folder ------------------------------------------------------------------------
    def open_folder(self, folder: Path) -> None:
        suffixes: tuple[str, ...] = () if self._folders_only else (".json", ".xml")
        self._asked = folder
        self._ops.run(self._transfers.list_folder(folder, suffixes), owner=self,
                      on_success=lambda rows: self._show_folder(folder, rows),
                      on_failure=self._show_problem)

    def _show_folder(self, folder: Path, rows: list[Entry]) -> None:
        if folder != self._asked:
            return  # the person went elsewhere meanwhile
        self.folder = folder
        self.problem.setVisible(False)
        self.folder_label.setText(str(folder))
        self.folder_label.setToolTip(str(folder))
        self.up_button.setEnabled(folder.parent != folder)
        self.list.clear()
        for entry in rows:
            # The style's own icons: a panel may have no emoji font.
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon if entry.is_folder
                                             else QStyle.StandardPixmap.SP_FileIcon)
            text = entry.name if entry.is_folder else \
                f"{entry.name}    {human_size(entry.size)}"
            item = QListWidgetItem(icon, text)
            item.setData(PATH_ROLE, str(entry.path))
            item.setData(FOLDER_ROLE, entry.is_folder)
            item.setSizeHint(QSize(0, ROW_HEIGHT))
            self.list.addItem(item)
        if not rows:
            empty = "no folders here" if self._folders_only else \
                "no .json or .xml files or folders here"
            item = QListWidgetItem(f"({empty})")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setSizeHint(QSize(0, ROW_HEIGHT))
            self.list.addItem(item)
        self.folder_changed.emit(folder)
        self.file_selected.emit(None)

    def _show_problem(self, failure: Failure) -> None:
        self.problem.setText(failure.sentence)
        self.problem.setVisible(True)

    def _up(self) -> None:
        if self.folder is not None and self.folder.parent != self.folder:
            self.open_folder(self.folder.parent)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        # One tap opens a folder: a finger should not need a double tap to go in.
        if item.data(FOLDER_ROLE):
            self.open_folder(Path(str(item.data(PATH_ROLE))))

    def _on_activated(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if path is not None and not item.data(FOLDER_ROLE):
            self.file_chosen.emit(Path(str(path)))

    def _on_current(self, item: QListWidgetItem | None, _previous: object) -> None:
        path = item.data(PATH_ROLE) if item is not None else None
        if path is None or item is None or item.data(FOLDER_ROLE):
            self.file_selected.emit(None)
        else:
            self.file_selected.emit(Path(str(path)))

    def selected_file(self) -> Path | None:
        item = self.list.currentItem()
        if item is None or item.data(FOLDER_ROLE) or item.data(PATH_ROLE) is None:
            return None
        return Path(str(item.data(PATH_ROLE)))

    def _browse(self) -> None:
        start = str(self.folder) if self.folder else ""
        if self._folders_only:
            chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
            if chosen:
                self.open_folder(Path(chosen))
            return
        name, _ = QFileDialog.getOpenFileName(
            self, "Choose a configuration file", start,
            "Configuration files (*.json *.xml);;All files (*)")
        if name:
            self.file_chosen.emit(Path(name))
