"""The Services section's flows: a person's requests (create, apply, start, stop, retry,
delete) to the core, and the core's answers and events back to the tree and the pages.

Every result comes home through ``ui.operations`` to the page that asked, and is dropped if
that page has gone since. An instance enters the tree when the core says it was stored
(``InstanceAdded``, whoever stored it) and leaves when it says it was deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt

from app.errors import shown
from app.metatype import INSTANCE_FACTORY_PID
from app.orchestrator.state import InstanceStatus, Phase
from ui.operations import Failure, Operations
from ui.services.factory_dialog import FactoryDialog
from ui.transfer.export_dialog import ExportDialog
from ui.transfer.import_dialog import ImportDialog

if TYPE_CHECKING:
    from concurrent.futures import Future

    from app.errors import FieldError
    from app.orchestrator.enforcement import Offender
    from app.orchestrator.events import ConnectionChanged
    from app.orchestrator.service import Orchestrator
    from app.remote.events import CloudLinkChanged
    from ui.bridge import CoreBridge
    from ui.services.form_page import FormPage
    from ui.services.instance_page import InstancePage
    from ui.services.section import Confirm, Say, ServicesSection

_UP = (Phase.RUNNING, Phase.RESTARTING)


class ServicesFlows(QObject):
    """Owned by its :class:`~ui.services.section.ServicesSection`."""

    def __init__(self, section: ServicesSection, bridge: CoreBridge, orchestrator: Orchestrator,
                 ops: Operations, *, confirm: Confirm, say: Say) -> None:
        super().__init__(section)
        self.section = section
        self.orch = orchestrator
        self.repo = orchestrator.repository
        self.ops = ops
        self._confirm = confirm
        self._say = say
        self.factory_dialog: FactoryDialog | None = None
        self.import_dialog: ImportDialog | None = None
        self.export_dialog: ExportDialog | None = None
        # Instances a person asked to stop, with when: "stopping" until the stop is over.
        self._stopping: dict[str, float] = {}
        self._reported: dict[str, InstanceStatus] = {}  # the core's last word per instance
        self._select_when_added: str | None = None  # created here, not in the tree yet
        bridge.state_changed.connect(self.on_state)
        bridge.connection_changed.connect(self.on_connection)
        bridge.instance_added.connect(self.on_added)
        bridge.instance_changed.connect(self.on_changed)
        bridge.instance_removed.connect(self.on_removed)
        bridge.cloud_link_changed.connect(self.on_cloud_link)

    # -- the core's events ---------------------------------------------------------------
    def on_state(self, status: InstanceStatus) -> None:
        if not self.repo.has_instance(status.name):
            return
        previous = self._reported.get(status.name)
        self._reported[status.name] = status
        if status.phase not in _UP:
            self._stopping.pop(status.name, None)  # the stop is over (or the core says so)
        self._show_status(self._shown(status) or status)
        page = self.section.instance_page
        if page is not None and page.name == status.name and page.timeline.isVisible() \
                and not _only_progress(previous, status):
            page.timeline.set_entries(self.orch.history(status.name))

    def on_connection(self, conn: ConnectionChanged) -> None:
        self.section.model.update_connection(conn)
        self.section.service_page.show_connection(conn)

    def on_added(self, name: str) -> None:
        """An instance was stored, here or by another program (a config import)."""
        self.section.model.add_instance(name, self.orch.status(name))
        if name == self._select_when_added:
            self._select_when_added = None
            self.section.select_instance(name)

    def on_changed(self, name: str) -> None:
        """Another program changed the instance's stored configuration."""
        page = self.section.instance_page
        if page is None or page.name != name or not self.repo.has_instance(name):
            return
        if page.form.is_dirty():
            page.form.replace_stored(self.repo.instance(name).values)
            page.status_line.setText(
                f"{name} was changed by another program; your edits are kept here, unapplied. "
                "Press Reset to see the stored values, or Apply to store yours.")
        else:
            page.form.set_values(self.repo.instance(name).values)

    def on_removed(self, name: str) -> None:
        self._reported.pop(name, None)
        self._stopping.pop(name, None)
        self.section.model.remove_instance(name)
        page = self.section.instance_page
        if page is not None and page.name == name:
            self.section.drop_instance_page()
            self.section.select_service()

    # -- what the pages show -------------------------------------------------------------
    def shown_status(self, name: str) -> InstanceStatus | None:
        """The instance's status as the window shows it now (see :meth:`_shown`)."""
        return self._shown(self.orch.status(name) or self.section.model.status(name))

    def _show_status(self, status: InstanceStatus) -> None:
        self.section.model.update_status(status)
        page = self.section.instance_page
        if page is not None and page.name == status.name:
            page.show_status(status)

    def _shown(self, status: InstanceStatus | None) -> InstanceStatus | None:
        """The status as the window shows it: "stopping" while a person's Stop is under way
        and the engine still reports the container running."""
        if status is None or status.phase not in _UP:
            return status
        asked = self._stopping.get(status.name)
        if asked is None:
            return status
        return replace(status, phase=Phase.STOPPING, since=asked)

    def serve(self, page: InstancePage) -> None:
        """Carry a new instance page's requests to the core."""
        name = page.name
        page.apply_requested.connect(self.apply_instance)
        page.delete_requested.connect(self.delete_instance)
        page.history_requested.connect(
            lambda: page.timeline.set_entries(self.orch.history(name)))
        page.start_requested.connect(lambda: self._run(lambda: self.orch.start_container(name),
                                                       page))
        page.stop_requested.connect(lambda: self.stop(name, page))
        page.retry_requested.connect(lambda: self._run(lambda: self.orch.retry_instance(name),
                                                       page))

    # -- a person's requests -------------------------------------------------------------
    def open_factory_dialog(self) -> FactoryDialog:
        if not self.section.may_leave():
            raise RuntimeError("unapplied changes kept")
        dialog = FactoryDialog(self.repo.catalog.factories(), self._check_name,
                               self.section.window())
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self.create(dialog.instance_name(),
                                                    dialog.factory_pid()))
        self.factory_dialog = dialog
        dialog.open()
        return dialog

    def open_import_dialog(self) -> ImportDialog:
        """Import configuration…: choose a file, see what it would do, then import it. What it
        changes reaches the tree and the pages as the core's events, like any other change."""
        dialog = ImportDialog(self.orch.transfers, self.ops, touch=self.section.touch(),
                              parent=self.section.window())
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    def open_export_dialog(self) -> ExportDialog:
        dialog = ExportDialog(self.orch.transfers, self.ops, touch=self.section.touch(),
                              parent=self.section.window())
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(lambda _r: self._said_export(dialog))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def _said_export(self, dialog: ExportDialog) -> None:
        if dialog.written is not None:
            self._say(f"Exported the configuration to {shown(str(dialog.written))}.")

    def _check_name(self, name: str, factory: str) -> list[FieldError]:
        return self.repo.check_new_name(name, factory or INSTANCE_FACTORY_PID)

    def create(self, name: str, factory: str) -> None:
        """Store a new instance; it enters the tree when the core says so (InstanceAdded),
        and is selected then."""
        self._say(f"Creating {name}…")

        def created(_config: object) -> None:
            self._say("")
            if self.section.model.row_of(name) >= 0:
                self.section.select_instance(name)
            else:
                self._select_when_added = name
        self.ops.run(lambda: self.orch.create_instance(name, factory=factory), owner=self,
                     on_success=created,
                     on_failure=lambda f: self._say(f"{name} was not created: {f.sentence}",
                                                    error=True))

    def apply_instance(self) -> None:
        page = self.section.instance_page
        if page is None:
            return
        if page.form.validate():
            return  # the errors are shown at their fields; nothing leaves the form
        values = page.form.values()
        self._send_form(page, lambda: self.orch.apply(page.name, values),
                        lambda result: result.values)

    def apply_service(self) -> None:
        page = self.section.service_page
        if page.form.validate():
            return
        values = page.form.values()
        service = self.repo.service_descriptor()
        switch = service.find_by_role("enforcement-enabled")
        allowlist = service.find_by_role("enforcement-allowlist")
        turning_on = switch is not None and bool(values.get(switch.id)) and \
            not bool(self.repo.service_values().get(switch.id))
        if not turning_on:
            self._send_form(page, lambda: self.orch.update_service(values),
                            lambda result: result)
            return
        # Switching enforcement on stops running containers: the person sees which first.
        text = str(values.get(allowlist.id, "")) if allowlist is not None else None

        def cannot(failure: Failure) -> None:
            page.status_line.setText(f"Enforcement cannot check the running containers "
                                     f"({failure.sentence}); nothing was applied.")
        self.ops.run(self.orch.enforcement_preview(text), owner=page,
                     on_success=lambda offenders: self._confirm_enforcement(page, values,
                                                                            offenders),
                     on_failure=cannot, busy=page.set_busy)

    def on_cloud_link(self, link: CloudLinkChanged) -> None:
        self.section.model.update_cloud(link)
        if self.section.cloud_page is not None:
            self.section.cloud_page.show_link(link)

    def apply_cloud(self) -> None:
        page, remote = self.section.cloud_page, self.section.remote
        if page is None or remote is None or page.form.validate():
            return
        values = page.form.values()
        self._send_form(page, lambda: remote.update_settings(values), lambda result: result)

    def _confirm_enforcement(self, page: FormPage, values: dict[str, Any],
                             offenders: list[Offender]) -> None:
        if offenders:
            most = 8
            lines = [f"• {o.name} ({o.image})" for o in offenders[:most]]
            if len(offenders) > most:
                lines.append(f"• and {len(offenders) - most} more")
            n = len(offenders)
            text = (f"Only images in the allowlist or verified for their instance may run. "
                    f"{n} running container{'s' if n != 1 else ''} would be stopped (not "
                    "removed):\n" + "\n".join(lines))
            yes = f"Turn on and stop {n}"
        else:
            text = ("Only images in the allowlist or verified for their instance may run. No "
                    "running container would be stopped.")
            yes = "Turn on"
        if not self._confirm("Turn on enforcement?", text, yes):
            page.status_line.setText("Enforcement was not turned on; nothing was applied.")
            return
        self._send_form(page, lambda: self.orch.update_service(values), lambda result: result)

    def _send_form(self, page: FormPage, work: Callable[[], Future[Any]],
                   stored_values: Callable[[Any], dict[str, Any]]) -> None:
        """Show ``page`` busy until ``work`` settles; then its errors at their fields, the
        failure on its status line, or the values as stored."""
        sent = page.form.values()

        def applied(result: Any) -> None:
            if page.form.values() == sent:
                # The stored values become the form's baseline: Apply and Reset go off.
                page.form.set_values(stored_values(result))
            # else: the person kept typing while it applied; those edits stay, unapplied.

        def refused(failure: Failure) -> None:
            if failure.errors:
                page.form.show_errors(failure.errors)
            else:
                page.status_line.setText(f"Apply failed: {failure.sentence}")
        self.ops.run(work, owner=page, on_success=applied, on_failure=refused,
                     busy=page.set_busy)

    def delete_instance(self) -> None:
        page = self.section.instance_page
        if page is None:
            return
        name = page.name
        if not self._confirm(
                f"Delete {name}?",
                f"This stops and removes the container {name} and deletes its configuration. "
                "The image stays on the engine. This cannot be undone.", "Delete"):
            return
        future = self.orch.delete_instance(name)
        # The page goes once the core says the instance is gone; a refusal is said on it.
        self.ops.run(future, owner=page, busy=page.set_busy,
                     on_failure=lambda f: page.status_line.setText(f"Delete failed: "
                                                                   f"{f.sentence}"))
        self.ops.run(future, owner=self, on_success=lambda _r: self._say(f"{name} was deleted."))

    def stop(self, name: str, page: InstancePage) -> None:
        self._stopping[name] = time.time()
        current = self._reported.get(name) or self.orch.status(name)
        if current is not None:
            self._show_status(self._shown(current) or current)

        def over(*_: object) -> None:
            # Done or refused: the core's own status from here on.
            if self._stopping.pop(name, None) is not None:
                latest = self._reported.get(name) or self.orch.status(name)
                if latest is not None:
                    self._show_status(latest)
        future = self.orch.stop_container(name)
        self.ops.run(future, owner=self, on_success=over, on_failure=over)
        self._run(future, page)  # after: a refusal's sentence stays under the badge

    def _run(self, work: Future[Any] | Callable[[], Future[Any]], page: InstancePage) -> None:
        self.ops.run(work, owner=page, on_failure=lambda f: page.status_line.setText(f.sentence))


def _only_progress(previous: InstanceStatus | None, status: InstanceStatus) -> bool:
    """Whether ``status`` differs from ``previous`` only in its pull's progress (a step of a
    pull: nothing new in the history)."""
    return previous is not None and replace(previous, progress=status.progress) == status
