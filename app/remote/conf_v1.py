"""Kura's CONF-V1 application (kura-remote.md §1): the configuration in Kura's XML, with OCDs
generated from the metatype, read and changed with Kura's merge, and its snapshots.

Through the one codec (app/config/kura.py, kura_wire.py). Where Moorings is stricter than Kura:
a PUT is validated whole before the reply, and an invalid one is answered 400 with every error
by component and field, and changes nothing (Kura answers 200 and logs the failure). A stored
password is never sent: a GET carries a stand-in in its place, and a PUT that sends the stand-in
back (or no password at all) keeps the stored one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from app.config.kura import component_out, decode_text, read_components, write_components
from app.config.kura_wire import CodecError, KuraComponent, read_xml, write_snapshot_ids
from app.config.model import BOOKKEEPING_KEYS, Scalar, validate
from app.config.transfer import KURA_TYPES_KEY
from app.errors import FieldError
from app.metatype import INSTANCE_FACTORY_PID, SERVICE_PID
from app.orchestrator.service import Orchestrator
from app.remote.dispatch import ERROR, Request, RequestError, Response, bad_request, not_found
from app.remote.snapshots import Snapshots

APP_ID = "CONF-V1"
log = logging.getLogger(__name__)
# What a GET sends in place of a stored password (Base64 on the wire, as every password).
PASSWORD_STAND_IN = "moorings:stored-password-unchanged"
STORED_WAIT_S = 30.0


@dataclass
class _Change:
    """What a PUT does to one component: its pid, whether it is new, the properties sent."""

    pid: str
    kind: str  # "service", "instance", "new"
    sent: dict[str, Scalar] = field(default_factory=dict)


class ConfV1:
    app_id = APP_ID

    def __init__(self, orchestrator: Orchestrator) -> None:
        self._orch = orchestrator
        self._repo = orchestrator.repository
        self.snapshots = Snapshots(self._repo.store.folder, self._repo)
        self._applying = threading.Lock()

    # -- GET -----------------------------------------------------------------------------------
    def configurations(self, pid: str | None = None) -> bytes:
        repo, catalog = self._repo, self._repo.catalog
        components = []
        if pid in (None, SERVICE_PID):
            components.append(component_out(SERVICE_PID, None, repo.service_values(),
                                            repo.service_descriptor(), with_ocd=True,
                                            password_stand_in=PASSWORD_STAND_IN))
        for inst in repo.instances():
            if pid is None or inst.name == pid:
                components.append(component_out(inst.name, inst.factory, inst.values,
                                                catalog.by_pid(inst.factory), with_ocd=True,
                                                password_stand_in=PASSWORD_STAND_IN))
        try:
            return write_components(components).encode("utf-8")
        except CodecError as exc:
            raise RequestError(ERROR, str(exc)) from exc

    def handle(self, request: Request) -> Response:
        res, method = request.resources, request.method
        if not res:
            raise bad_request(f"{method} needs a resource: configurations or snapshots")
        if method == "GET":
            return self._get(res)
        if method == "PUT":
            if res[0] != "configurations":
                raise not_found(f"there is no PUT resource {res[0]}; expected configurations")
            if len(res) > 2:
                raise bad_request("expected configurations or configurations/<pid>")
            return self._put(request.body, res[1] if len(res) == 2 else None)
        if method == "EXEC":
            return self._exec(res)
        raise RequestError(ERROR, f"{method} is not supported by CONF-V1 (operation not "
                           "supported)")

    def _get(self, res: tuple[str, ...]) -> Response:
        if len(res) > 2:
            raise bad_request("expected at most one argument after the resource")
        if res[0] == "configurations":
            return Response(body=self.configurations(res[1] if len(res) == 2 else None))
        if res[0] == "snapshots":
            if len(res) == 1:
                return Response(body=write_snapshot_ids(self.snapshots.ids()).encode("utf-8"))
            data = self.snapshots.read(_snapshot_id(res[1]))
            if data is None:
                raise RequestError(ERROR, f"there is no snapshot {res[1]}")
            return Response(body=data)
        raise not_found(f"there is no GET resource {res[0]}; expected configurations or "
                        "snapshots")

    # -- PUT -----------------------------------------------------------------------------------
    def _put(self, body: bytes, only: str | None) -> Response:
        if not body:
            raise bad_request("the request has no body; expected esf:configurations XML")
        try:
            components = read_xml(decode_text(body))
        except CodecError as exc:
            raise bad_request(str(exc)) from exc
        if only is not None:
            components = [c for c in components if c.pid == only]
        for comp in components:
            # An update of a stored instance may leave service.factoryPid out, as Kura allows.
            if comp.factory_pid is None and self._repo.has_instance(comp.pid) and not any(
                    p.name == "service.factoryPid" for p in comp.properties):
                comp.factory_pid = INSTANCE_FACTORY_PID
        changes, errors = self._check(components)
        if errors:
            text = "; ".join(str(e) for e in errors)
            body_out = json.dumps({"errors": [
                {"pid": e.component, "field": e.field_id, "name": e.field_name,
                 "message": e.message} for e in errors]}, ensure_ascii=False)
            return Response(400, body_out.encode("utf-8"),
                            message=f"{len(errors)} error{'s' if len(errors) != 1 else ''}; "
                            f"nothing was changed: {text}")
        # Valid: answered now; applied in order, then a snapshot of the result (as Kura).
        threading.Thread(target=self._apply, args=(changes,), name="moorings-conf-apply",
                         daemon=True).start()
        return Response()

    def _check(self, components: list[KuraComponent]) -> tuple[list[_Change], list[FieldError]]:
        doc = read_components(components, self._repo.catalog)
        if doc.skipped:
            log.info("CONF-V1: PUT skipped components Moorings does not configure: %s",
                     ", ".join(doc.skipped))
        sent_names = {("service" if c.pid == SERVICE_PID and not _factory_of(c) else c.pid): {
            p.name for p in c.properties if p.name not in BOOKKEEPING_KEYS}
            for c in components}
        # The codec checked each component with defaults for what was not sent; a stored one
        # is merged instead, and checked so below: of its errors here, only those of the
        # properties sent (one that could not be read at all) count.
        errors = [e for e in doc.errors
                  if not self._stored(e.component) or e.field_id == "document"
                  or e.field_id in sent_names.get(e.component or "", set())]
        # A property that failed holds its default in the checked values: a component with
        # errors already is not checked again merged (it would blame its stored partners).
        failed = {e.component for e in errors}
        changes: list[_Change] = []
        if doc.service is not None:
            sent = _sent(doc.service, sent_names.get("service", set()),
                         self._repo.service_descriptor().secret_ids())
            merged = {**self._repo.service_values(), **sent}
            if "service" not in failed:
                errors += [FieldError(e.field_id, e.field_name, e.message, e.item, "service")
                           for e in validate(self._repo.service_descriptor(), merged,
                                             None).errors]
            changes.append(_Change(SERVICE_PID, "service", sent))
        for name, (factory, values) in doc.instances.items():
            desc = self._repo.catalog.by_pid(factory)
            if self._repo.has_instance(name):
                sent = _sent(values, sent_names.get(name, set()), desc.secret_ids())
                merged = {**self._repo.instance(name).values, **sent}
                if name not in failed:
                    errors += validate(desc, merged, name).errors
                changes.append(_Change(name, "instance", sent))
            else:
                new = {k: v for k, v in values.items()
                       if not (k in desc.secret_ids() and v == PASSWORD_STAND_IN)}
                errors += self._repo.check_new_name(name, factory)
                changes.append(_Change(name, "new", new))
        # One error once (the codec's checks and the merged ones can find the same).
        unique = list(dict.fromkeys(errors))
        return changes, unique

    def _stored(self, component: str | None) -> bool:
        return component == "service" or (component is not None
                                          and self._repo.has_instance(component))

    def _apply(self, changes: list[_Change]) -> None:
        with self._applying:
            before = self._repo.revision
            futures: list[Future[Any]] = []
            for change in changes:
                if change.kind == "service":
                    futures.append(self._orch.update_service(change.sent))
                elif change.kind == "instance":
                    futures.append(self._orch.apply(change.pid, change.sent))
                else:
                    futures.append(self._orch.create_instance(change.pid, change.sent))
            self._wait_stored(before, len(changes), futures)
            try:
                self.snapshots.take()
            except (OSError, CodecError) as exc:
                log.warning("CONF-V1: the snapshot after an update could not be written: %s",
                            exc)

    def _wait_stored(self, before: int, count: int, futures: list[Future[Any]]) -> None:
        deadline = time.monotonic() + STORED_WAIT_S
        while time.monotonic() < deadline:
            if self._repo.revision >= before + count or all(f.done() for f in futures):
                return
            time.sleep(0.05)

    # -- EXEC ----------------------------------------------------------------------------------
    def _exec(self, res: tuple[str, ...]) -> Response:
        if res[0] == "snapshot":
            if len(res) != 1:
                raise bad_request("EXEC snapshot takes no argument")
            sid = self.snapshots.take()
            return Response(body=write_snapshot_ids([sid]).encode("utf-8"))
        if res[0] == "rollback":
            if len(res) > 2:
                raise bad_request("expected rollback or rollback/<id>")
            ids = self.snapshots.ids()
            if len(res) == 2:
                target = _snapshot_id(res[1])
            elif len(ids) >= 2:
                target = ids[-2]
            else:
                raise RequestError(ERROR, "there is no earlier snapshot to roll back to")
            data = self.snapshots.read(target)
            if data is None:
                raise RequestError(ERROR, f"there is no snapshot {target}")
            threading.Thread(target=self._rollback, args=(data,), daemon=True,
                             name="moorings-conf-rollback").start()
            return Response()
        raise not_found(f"there is no EXEC resource {res[0]}; expected snapshot or rollback")

    def _rollback(self, data: bytes) -> None:
        """Kura's rollback: the instances that the snapshot lacks go, the others become as in
        it (their stored passwords kept: snapshots hold none)."""
        try:
            components = read_xml(decode_text(data))
        except CodecError as exc:
            log.warning("CONF-V1: the snapshot cannot be read: %s", exc)
            return
        doc = read_components(components, self._repo.catalog)
        if doc.errors:
            log.warning("CONF-V1: the snapshot holds errors; nothing rolled back: %s",
                        "; ".join(str(e) for e in doc.errors))
            return
        with self._applying:
            for name in self._repo.instance_names():
                if name not in doc.instances:
                    self._orch.delete_instance(name)
            if doc.service is not None:
                self._orch.update_service(doc.service)
            for name, (factory, values) in doc.instances.items():
                kept = {k: v for k, v in values.items()
                        if k not in doc.absent_secrets.get(name, set())}
                if self._repo.has_instance(name):
                    self._orch.apply(name, kept)
                else:
                    self._orch.create_instance(name, kept, factory)


def _factory_of(comp: KuraComponent) -> str | None:
    if comp.factory_pid:
        return comp.factory_pid
    for prop in comp.properties:
        if prop.name == "service.factoryPid" and prop.values:
            return str(prop.values[0])
    return None


def _sent(values: Mapping[str, Scalar], names: set[str],
          secrets: frozenset[str]) -> dict[str, Scalar]:
    """The properties a PUT gave (Kura merges: the others keep their values), without a
    password that is the stand-in a GET sent for it (the stored one is kept)."""
    out = {k: v for k, v in values.items() if k in names}
    for sid in secrets:
        if out.get(sid) == PASSWORD_STAND_IN:
            del out[sid]
    if KURA_TYPES_KEY in values:
        out[KURA_TYPES_KEY] = values[KURA_TYPES_KEY]
    return out


def _snapshot_id(text: str) -> int:
    if not text.isdigit():
        raise bad_request(f"{text[:40]} is not a snapshot id; expected a number")
    return int(text)
