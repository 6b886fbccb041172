"""What a configuration written whole (by another program's `moorings config import`, or an
import from the window) does to the running orchestrator: new instances start, changed ones
start afresh, deleted ones go."""

from __future__ import annotations

import logging
from functools import partial

from app.config.repository import Changes
from app.orchestrator.context import Context
from app.orchestrator.events import InstanceChanged
from app.orchestrator.reconcile import Reconciler

log = logging.getLogger(__name__)


OTHER_PROGRAM = "another program (config import)"


def apply_outside_changes(ctx: Context, reconciler: Reconciler, changes: Changes) -> None:
    """On the reconcile thread, once the repository has taken the files into its snapshot."""
    take_up(ctx, reconciler, changes, OTHER_PROGRAM)


def take_up(ctx: Context, reconciler: Reconciler, changes: Changes, by: str) -> None:
    """Act on stored configurations that changed by a whole-file write (``by``: who wrote it,
    for the history and the log): an import by another program, or one from the window."""
    gone: list[str] = []
    for name in sorted(changes.names):
        if not ctx.repo.has_instance(name):
            ctx.runs[name].cancel_pull()
            ctx.runtime.set_stopped(name, False)
            gone.append(name)
            continue
        # A new configuration is a fresh start, as an Apply is (a given-up instance tries
        # again, a person's stop no longer holds).
        ctx.fresh_start(name)
        if ctx.board.get(name) is None:
            ctx.added(name, f"the instance was added by {by}")
        else:
            ctx.board.note(name, "changed", f"the configuration was changed by {by}")
            ctx.hub.emit(InstanceChanged(name))
    what = ", ".join(sorted(changes.names))
    if changes.service:
        what = (what + " and " if what else "") + "the service settings"
    log.info("the configuration was changed by %s (revision %d): %s", by, changes.revision,
             what)
    if changes.service:
        ctx.link.disconnect("the engine settings changed")
        ctx.link.connect()
    elif changes.names:
        reconciler.reconcile(changes.names, "import")
    executor = reconciler.executor
    for name in gone:
        ctx.runs.once_settled(name, partial(executor.forget_if_gone, name))
    # Tell a waiting `config import` that its change has been taken up.
    ctx.runtime.set_loaded(changes.revision)
