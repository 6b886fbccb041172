"""The preview of an import: what importing a checked document would do to the configuration
in force (instances created, replaced, unchanged and left alone; the service settings that
change; the components skipped), in sentences for a person. Nothing is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.config.model import Scalar
from app.config.transfer import ParsedDocument, imported_values
from app.errors import FieldError, shown


class ConfigView(Protocol):
    """What the preview reads of the configuration in force (the repository has it)."""

    def service_values(self) -> dict[str, Scalar]: ...

    def instances(self) -> Sequence[_Instance]: ...


class _Instance(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def factory(self) -> str: ...

    @property
    def values(self) -> Mapping[str, Scalar]: ...


@dataclass(frozen=True)
class ImportPlan:
    """What importing a document would do to the configuration in force; nothing is written.

    ``created``: new instances; ``replaced``: instances whose values change; ``unchanged``:
    named by the file with the values they have; ``untouched``: stored instances the file does
    not name, left as they are; ``service_changes``: the service's property ids that change
    (empty when the file has no service settings or they are the same).
    """

    document: ParsedDocument
    created: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    untouched: tuple[str, ...] = ()
    service_changes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.document.errors

    @property
    def errors(self) -> list[FieldError]:
        return self.document.errors

    @property
    def warnings(self) -> list[str]:
        return self.document.warnings

    @property
    def skipped(self) -> list[str]:
        return self.document.skipped

    def summary(self, *, done: bool = False) -> list[str]:
        """Sentences for a person: what the import would do (``done``: what it did)."""
        if not self.ok:
            n = len(self.errors)
            return [f"{n} error{'s' if n != 1 else ''} in this {self.document.source} file; "
                    "importing it would write nothing."]
        lines = []
        for did, would, names in (
                ("Created", "Would create", self.created),
                ("Replaced", "Would replace", self.replaced),
                ("Already as in the file", "Already as in the file", self.unchanged),
                ("Left as they are (not in the file)", "Would leave as they are (not in the "
                 "file)", self.untouched)):
            if names:
                lines.append(f"{did if done else would}: {', '.join(shown(n) for n in names)}.")
        if self.service_changes:
            verb = "Changed" if done else "Would change"
            lines.append(f"{verb} the service settings: {', '.join(self.service_changes)}.")
        elif self.document.service is not None:
            lines.append("The service settings are already as in the file.")
        skipped = skipped_line(self.skipped)
        if skipped:
            lines.append(skipped[0].upper() + skipped[1:] + ".")
        return lines


def plan_import(document: ParsedDocument, current: ConfigView) -> ImportPlan:
    """What :meth:`ConfigRepository.import_document` would do with ``document`` now."""
    if document.errors:
        return ImportPlan(document)
    stored = {i.name: i for i in current.instances()}
    created, replaced, unchanged = [], [], []
    for name in sorted(document.instances):
        factory, _ = document.instances[name]
        old = stored.get(name)
        after = imported_values(document, name, dict(old.values) if old else None)
        if old is None:
            created.append(name)
        elif old.factory == factory and dict(old.values) == after:
            unchanged.append(name)
        else:
            replaced.append(name)
    untouched = tuple(sorted(set(stored) - set(document.instances)))
    changes: tuple[str, ...] = ()
    if document.service is not None:
        before = current.service_values()
        keys = set(before) | set(document.service)
        changes = tuple(sorted(k for k in keys if before.get(k) != document.service.get(k)))
    return ImportPlan(document, tuple(created), tuple(replaced), tuple(unchanged), untouched,
                      changes)


def skipped_line(skipped: Sequence[str], most: int = 8) -> str | None:
    """One line naming the components of a Kura file that were skipped, or None."""
    if not skipped:
        return None
    n = len(skipped)
    names = ", ".join(shown(p) for p in skipped[:most])
    more = f" and {n - most} more" if n > most else ""
    noun = "component that is not a container" if n == 1 else \
        "components that are not containers"
    return f"skipped {n} {noun}: {names}{more}"
