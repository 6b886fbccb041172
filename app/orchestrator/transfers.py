"""A person's configuration files in the running orchestrator (the window's Import and
Export): where to look for them, a preview of what an import would do, the import of exactly
what was previewed, and an export of the configuration in force."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from app.config.documents import read_document, write_export
from app.config.kura import ExportFormat, ImportPlan, export_view, plan_import, read_configuration
from app.config.places import Entry, Place, likely_places, list_folder
from app.config.repository import Changes
from app.errors import shown
from app.orchestrator.commands import PRIORITY_PERSON
from app.orchestrator.context import Context
from app.orchestrator.outside import take_up
from app.orchestrator.reconcile import Reconciler

Submit = Callable[[Callable[[], Any], int, str], "Future[Any]"]


class PreviewOutdated(Exception):
    """The configuration changed between the preview and the confirmation; nothing was
    written. The message is a sentence for a person."""


def _what(plan: ImportPlan) -> tuple[object, ...]:
    return plan.created, plan.replaced, plan.service_changes


class Transfers:
    """Every method returns a Future at once. Files are read and written on one file thread
    (a stick can be slow; a reconcile or the window must never wait for it); the import
    itself is a person's request on the reconcile thread."""

    def __init__(self, ctx: Context, reconciler: Reconciler, submit: Submit) -> None:
        self._ctx = ctx
        self._reconciler = reconciler
        self._submit = submit
        self._files = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moorings-files")

    def shutdown(self) -> None:
        self._files.shutdown(wait=False, cancel_futures=True)

    def places(self) -> Future[list[Place]]:
        """Mounted media (a USB stick) first, then the home folder."""
        return self._files.submit(likely_places)

    def list_folder(self, folder: Path, suffixes: tuple[str, ...] = (".json", ".xml")
                    ) -> Future[list[Entry]]:
        """``folder``'s sub-folders and configuration files (OSError if it cannot be read)."""
        return self._files.submit(list_folder, folder, suffixes)

    def preview(self, path: Path, *, with_service: bool = True) -> Future[ImportPlan]:
        """What importing ``path`` would do now; nothing is written. InputProblem (a sentence)
        when the file cannot be read as a document. ``with_service=False`` leaves the service
        settings (the engine's address, ...) as they are, whatever the file holds."""
        def run() -> ImportPlan:
            repo = self._ctx.repo
            parsed = read_configuration(read_document(str(path)), repo.catalog)
            if not with_service and parsed.service is not None:
                parsed = dataclasses.replace(parsed, service=None)
            return plan_import(parsed, repo)
        return self._files.submit(run)

    def import_previewed(self, plan: ImportPlan, file_name: str) -> Future[ImportPlan]:
        """Write ``plan``'s document if it would still do what the preview said, then act on
        it as on another program's import (its instances start afresh); the plan as done.

        PreviewOutdated (nothing written) when another writer changed the configuration so that
        the import would now create, replace or change something else than the person saw.
        """
        def run() -> ImportPlan:
            if not plan.ok:
                return plan
            ctx = self._ctx
            now = plan_import(plan.document, ctx.repo)
            if _what(now) != _what(plan):
                raise PreviewOutdated(
                    "The configuration changed since the preview (another program saved it), "
                    "so the import would now do something else; nothing was imported. Look at "
                    "the preview again.")
            ctx.repo.import_document(now.document)
            names = frozenset(now.created) | frozenset(now.replaced)
            changes = Changes(names, bool(now.service_changes), ctx.repo.revision)
            if changes:
                take_up(ctx, self._reconciler, changes, f"an import of {shown(file_name)}")
            return now
        return self._submit(run, PRIORITY_PERSON, "import")

    def export(self, path: Path, fmt: ExportFormat, *, include_secrets: bool = False
               ) -> Future[None]:
        """Write the configuration in force to ``path``: whole or not at all, 0600 when it
        holds passwords. OutputProblem or CodecError (a sentence) when it cannot."""
        repo = self._ctx.repo

        def run() -> None:
            data = export_view(fmt, repo, repo.catalog, include_secrets=include_secrets)
            write_export(path, data, holds_secrets=include_secrets)
        return self._files.submit(run)
