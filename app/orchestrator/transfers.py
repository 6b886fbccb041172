"""A person's import and export of a configuration file in the running orchestrator (the
window's Import and Export): a preview of what an import would do, then the import of exactly
what was previewed; an export of the configuration in force."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from app.config.documents import read_document, write_export
from app.config.kura import ExportFormat, ImportPlan, export_view, plan_import, read_configuration
from app.config.repository import Changes, ConfigRepository
from app.errors import shown
from app.orchestrator.context import Context
from app.orchestrator.outside import take_up
from app.orchestrator.reconcile import Reconciler


class PreviewOutdated(Exception):
    """The configuration changed between the preview and the confirmation; nothing was
    written. The message is a sentence for a person."""


def preview(path: Path, ctx: Context, *, with_service: bool = True) -> ImportPlan:
    """What importing ``path`` would do now (read, checked and compared; nothing written).

    Runs on a worker thread (the file may be on a slow stick); raises InputProblem with a
    sentence when the file cannot be read as a document. ``with_service=False`` leaves the
    service settings (the engine's address, ...) as they are whatever the file holds.
    """
    parsed = read_configuration(read_document(str(path)), ctx.repo.catalog)
    if not with_service and parsed.service is not None:
        parsed = dataclasses.replace(parsed, service=None)
    return plan_import(parsed, ctx.repo)


def _what(plan: ImportPlan) -> tuple[object, ...]:
    return plan.created, plan.replaced, plan.service_changes


def import_previewed(plan: ImportPlan, ctx: Context, reconciler: Reconciler,
                     file_name: str) -> ImportPlan:
    """On the reconcile thread: write ``plan``'s document if it would still do what the
    preview said, then act on it as on another program's import. Returns the plan as done.

    Raises PreviewOutdated (nothing written) when another writer changed the configuration so
    that the import would now create, replace or change something else than the person saw.
    """
    if not plan.ok:
        return plan
    now = plan_import(plan.document, ctx.repo)
    if _what(now) != _what(plan):
        raise PreviewOutdated(
            "The configuration changed since the preview (another program saved it), so the "
            "import would now do something else; nothing was imported. Look at the preview "
            "again.")
    ctx.repo.import_document(now.document)
    names = frozenset(now.created) | frozenset(now.replaced)
    changes = Changes(names, bool(now.service_changes), ctx.repo.revision)
    if changes:
        take_up(ctx, reconciler, changes, f"an import of {shown(file_name)}")
    return now


def export(path: Path, fmt: ExportFormat, repo: ConfigRepository, *,
           include_secrets: bool) -> None:
    """Write the configuration in force to ``path`` (a worker thread); raises OutputProblem or
    CodecError with a sentence."""
    data = export_view(fmt, repo, repo.catalog, include_secrets=include_secrets)
    write_export(path, data, holds_secrets=include_secrets)
