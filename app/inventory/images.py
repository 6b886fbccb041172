"""The inventory's image list on the feed's worker thread: the engine's last image listing,
which image each container uses, and when the list is due again (no engine event names
images: creates and destroys mark it, and it is listed once their burst has gone quiet)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.inventory.rows import ImageRow, image_rows

# Creates and destroys mark the images for a new listing, made once the burst has gone quiet
# for this long (at most IMAGES_MAX_DELAY_S after the first).
IMAGES_QUIET_S = 0.3
IMAGES_MAX_DELAY_S = 2.0


class ImageList:
    """Not thread-safe: the feed's worker alone uses it."""

    def __init__(self) -> None:
        self.raw: list[Mapping[str, Any]] = []
        self.dirty = False  # the engine's images may have changed: list them again
        self.due: float | None = None  # when to list them again
        self._first_dirty = 0.0
        self.users_dirty = False  # which containers use which image may have changed
        self._image_of: dict[str, str] = {}

    def listed(self, images: Iterable[Mapping[str, Any]]) -> None:
        """A new listing of the engine's images."""
        self.raw = list(images)
        self.taken()

    def taken(self) -> None:
        """A listing is under way (or was made): nothing is due."""
        self.dirty = False
        self.due = None

    def mark_dirty(self, now: float) -> None:
        if not self.dirty:
            self.dirty = True
            self._first_dirty = now
        self.due = min(now + IMAGES_QUIET_S, self._first_dirty + IMAGES_MAX_DELAY_S)

    def uses(self, cid: str, image_id: str) -> None:
        if self._image_of.get(cid) != image_id:
            self._image_of[cid] = image_id
            self.users_dirty = True

    def forget(self, cid: str) -> None:
        if self._image_of.pop(cid, None) is not None:
            self.users_dirty = True

    def rows(self, names: Iterable[tuple[str, str]]) -> tuple[ImageRow, ...]:
        """The image rows, each with the names of the containers (``(id, name)``) using it."""
        self.users_dirty = False
        users: dict[str, list[str]] = {}
        for cid, name in names:
            iid = self._image_of.get(cid)
            if iid:
                users.setdefault(iid, []).append(name)
        return image_rows(self.raw, users)
