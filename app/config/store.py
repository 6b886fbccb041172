"""On-disk home of every component configuration: moorings.json plus owner-only secrets.json,
read and written as one commit under the folder's lock (their format: store_format.py)."""

from __future__ import annotations

import contextlib
import os
import secrets as token
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.config.atomic import atomic_write, temp_target_name
from app.config.folder import check_folder, read_regular, write_lock
from app.config.store_format import (
    MIGRATIONS,
    SCHEMA1_SECRET_IDS,
    SCHEMA_VERSION,
    Documents,
    FileState,
    JsonObject,
    Scalar,
    Secrets,
    StoredConfig,
    StoredInstance,
    Unreadable,
    config_from_doc,
    encode,
    paired_secrets,
    parse,
    revision_of,
    schema_of,
    secrets_from_doc,
    split,
    text_field,
)
from app.errors import StoreError
from app.paths import ensure_dir

__all__ = [
    "CONFIG_NAME",
    "MIGRATIONS",
    "SCHEMA1_SECRET_IDS",
    "SCHEMA_VERSION",
    "SECRETS_NAME",
    "ConfigStore",
    "LoadResult",
    "Scalar",
    "StoredConfig",
    "StoredInstance",
    "UpdateResult",
]

CONFIG_NAME = "moorings.json"
SECRETS_NAME = "secrets.json"
CONFIG_MODE = 0o644
SECRETS_MODE = 0o600
# Backups and moved-aside files may hold passwords (a schema 1 file had them inline).
BACKUP_MODE = 0o600

# The sections of secrets.json that hold values (the rest is bookkeeping).
_SECRET_SECTIONS = ("service", "instances", "components")


def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


@dataclass
class LoadResult:
    """What ``ConfigStore.load`` found, and sentences for a person about what it had to repair."""

    data: StoredConfig
    warnings: list[str] = field(default_factory=list)


@dataclass
class UpdateResult:
    """What ``ConfigStore.update`` committed, and what the load under the same lock repaired."""

    data: StoredConfig
    warnings: list[str] = field(default_factory=list)


class ConfigStore:
    """Reads and writes moorings.json and secrets.json in one folder.

    Every read and write holds the folder's write lock, so several processes (the window,
    headless mode, ``config`` commands) can share one folder: :meth:`update` reads what is on
    disk now, applies a change and writes it back, and no writer loses another's change.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = Path(folder)
        # What the files held when this store last read or wrote them, with their
        # fingerprints: a read-modify-write finds them unchanged most of the time, and then
        # need not read and check them again. (Every save replaces a file by rename, so a
        # change always changes the inode.) The cached data is never changed in place.
        self._cached: tuple[object, StoredConfig] | None = None

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def path(self) -> Path:
        return self._folder / CONFIG_NAME

    @property
    def secrets_path(self) -> Path:
        return self._folder / SECRETS_NAME

    # -- loading -----------------------------------------------------------------------------

    def load(self) -> LoadResult:
        """Read both files, repairing what can be repaired and saying so in ``warnings``.

        Missing files give an empty configuration. Raises StoreError, leaving every file as it
        was, if a file comes from a newer Moorings, is not a regular file, sits in a folder
        that others may write, or cannot be read at all; a file whose content is damaged is
        moved aside instead, with a warning naming the moved copy.
        """
        check_folder(self._folder)
        if not self._folder.is_dir():
            return LoadResult(data=StoredConfig())
        with write_lock(self._folder):
            return self._load_locked()

    def signature(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of moorings.json (inode, size, mtime): it changes with every save."""
        try:
            st = os.lstat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def disk_generation(self) -> str | None:
        """The generation moorings.json holds now ("" for none), or None if it cannot be read."""
        try:
            raw = read_regular(self.path)
        except (OSError, StoreError):
            return None
        if raw is None:
            return ""
        try:
            return text_field(parse(raw), "generation")
        except Unreadable:
            return None

    def _fingerprints(self) -> object:
        out: list[tuple[int, ...] | None] = []
        for path in (self.path, self.secrets_path):
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                out.append(None)
                continue
            out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode))
        return tuple(out)

    def _load_locked(self) -> LoadResult:
        cached = self._cached
        if cached is not None and cached[0] == self._fingerprints():
            return LoadResult(data=cached[1])
        result = self._read_locked()
        self._cached = (self._fingerprints(), result.data)
        return result

    def _read_locked(self) -> LoadResult:
        config = self._examine(self.path)
        secrets = self._examine(self.secrets_path)
        # Refuse before touching anything, so a newer Moorings finds its files intact.
        for state in (config, secrets):
            if state.problem is None and state.version > SCHEMA_VERSION:
                raise StoreError(
                    f"{state.path} was written by a newer Moorings (schema {state.version}; "
                    f"this version understands up to schema {SCHEMA_VERSION}). Nothing was "
                    "changed: use the newer Moorings, or another configuration folder."
                )

        warnings: list[str] = []
        self._remove_stale_temps()
        if secrets.raw is not None:
            self._tighten_secrets(warnings)

        secret_doc: JsonObject = {"schema": SCHEMA_VERSION, "instances": {}}
        if secrets.doc is not None:
            try:
                chosen, note = paired_secrets(config.doc, secrets.doc)
                secrets_from_doc(chosen)
                secret_doc = chosen
            except Unreadable as exc:
                secrets.problem = str(exc)
            else:
                self._note_pairing(note, config.doc, chosen, warnings)
        if secrets.problem is not None:
            self._set_aside(
                secrets, warnings, "saved passwords are missing and must be entered again"
            )

        stored = StoredConfig()
        if config.doc is not None and config.raw is not None:
            try:
                stored, secret_doc = self._upgrade(
                    config.raw, config.doc, config.version, secret_doc, warnings
                )
            except Unreadable as exc:
                config.problem = str(exc)
        if config.problem is not None:
            self._set_aside(config, warnings, "Moorings started with an empty configuration")

        self._merge_secrets(stored, secrets_from_doc(secret_doc), warnings)
        return LoadResult(data=stored, warnings=warnings)

    def _note_pairing(self, note: str | None, config_doc: JsonObject | None,
                      chosen: JsonObject, warnings: list[str]) -> None:
        if note == "interrupted":
            warnings.append(
                f"The last save of the configuration in {self._folder} was interrupted before "
                "it finished; the configuration from before it is in force."
            )
            # Drop the set that never took effect (it may hold a password nobody uses).
            repaired: JsonObject = {"schema": SCHEMA_VERSION,
                                    "generation": text_field(config_doc, "secrets")}
            for key in _SECRET_SECTIONS:
                if key in chosen:
                    repaired[key] = chosen[key]
            with contextlib.suppress(OSError):
                atomic_write(self.secrets_path, encode(repaired), SECRETS_MODE)
        elif note == "mismatch":
            warnings.append(
                f"{self.secrets_path} was not saved together with {self.path} (one of them was "
                "replaced by hand or from a backup); its passwords are used for the instances "
                "of the same names, so check the registry passwords."
            )

    def _examine(self, path: Path) -> FileState:
        try:
            raw = read_regular(path)
        except OSError as exc:
            raise StoreError(f"{path} cannot be read: {exc.strerror or exc}.") from None
        state = FileState(path=path, raw=raw)
        if raw is None:
            return state
        try:
            state.doc = parse(raw)
            state.version = schema_of(state.doc)
        except Unreadable as exc:
            state.doc = None
            state.problem = str(exc)
        return state

    def _remove_stale_temps(self) -> None:
        try:
            entries = list(self._folder.iterdir())
        except OSError:
            return
        for entry in entries:
            target = temp_target_name(entry.name)
            if target is not None and target.startswith((CONFIG_NAME, SECRETS_NAME)):
                with contextlib.suppress(OSError):
                    entry.unlink()

    def _tighten_secrets(self, warnings: list[str]) -> None:
        if os.name != "posix":
            return
        path = self.secrets_path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                         | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & 0o077 == 0:
                return
            try:
                # Through the open file, never the name: a link swapped in meanwhile is not
                # followed to chmod someone else's file.
                os.fchmod(fd, SECRETS_MODE)
            except OSError as exc:
                warnings.append(
                    f"{path} can be read by other users (mode {mode:04o}) and its permissions "
                    f"could not be restricted ({exc.strerror or exc}); restrict them to 0600."
                )
                return
        finally:
            os.close(fd)
        warnings.append(
            f"{path} could be read by other users (mode {mode:04o}); its permissions were "
            "set to 0600 so that only you can read it."
        )

    def _set_aside(self, state: FileState, warnings: list[str], consequence: str) -> None:
        stamp = _timestamp()
        try:
            moved = self._move_without_clobbering(state.path, f"unreadable-{stamp}")
        except OSError as exc:
            raise StoreError(
                f"{state.path} cannot be read ({state.problem}) and could not be moved aside "
                f"({exc.strerror or exc}). It was left as it is; repair or remove it."
            ) from None
        warnings.append(
            f"{state.path} could not be read ({state.problem}). It was moved to {moved} and "
            f"{consequence}."
        )

    def _free_name(self, path: Path, tag: str) -> Path:
        candidate = path.with_name(f"{path.name}.{tag}.bak")
        counter = 1
        while candidate.exists() or candidate.is_symlink():
            counter += 1
            candidate = path.with_name(f"{path.name}.{tag}-{counter}.bak")
        return candidate

    def _move_without_clobbering(self, path: Path, tag: str) -> Path:
        while True:
            target = self._free_name(path, tag)
            try:
                # A hard link fails if the name was taken meanwhile, where rename would clobber.
                os.link(path, target)
            except FileExistsError:
                continue
            except OSError:
                # Some filesystems (FAT, some network mounts) have no hard links.
                os.rename(path, target)
            else:
                os.unlink(path)
            with contextlib.suppress(OSError):
                os.chmod(target, BACKUP_MODE)
            return target

    def _upgrade(
        self,
        raw: bytes,
        doc: JsonObject,
        old_version: int,
        secret_doc: JsonObject,
        warnings: list[str],
    ) -> tuple[StoredConfig, JsonObject]:
        """Validate moorings.json, first migrating it (on disk too) if it is older."""
        if old_version == SCHEMA_VERSION:
            return config_from_doc(doc), secret_doc
        docs = Documents(doc, secret_doc)
        for version in range(old_version, SCHEMA_VERSION):
            docs = MIGRATIONS[version](docs)
        # Validate everything before writing anything: a damaged old file is moved aside intact.
        stored = config_from_doc(docs.config)
        secrets_from_doc(docs.secrets)
        backup = self._free_name(self.path, f"schema{old_version}")
        try:
            atomic_write(backup, raw, BACKUP_MODE)
            stored.generation = self._write(docs.config, docs.secrets)
        except OSError as exc:
            raise StoreError(
                f"{self.path} was written by an older Moorings (schema {old_version}) and "
                f"could not be upgraded: {exc.strerror or exc}."
            ) from None
        warnings.append(
            f"{self.path} was written by an older Moorings (schema {old_version}) and was "
            f"upgraded to schema {SCHEMA_VERSION}; passwords now live in {self.secrets_path}. "
            f"The old file was kept as {backup}; it holds passwords, so delete it when you no "
            "longer need it."
        )
        return stored, docs.secrets

    def _merge_secrets(self, stored: StoredConfig, secrets: Secrets, warnings: list[str]) -> None:
        stored.service.update(secrets.service)
        for pid, values in secrets.components.items():
            stored.components.setdefault(pid, {}).update(values)
        orphans: list[str] = []
        for name, values in secrets.instances.items():
            instance = stored.instances.get(name)
            if instance is None:
                orphans.append(name)
            else:
                instance.properties.update(values)
        if orphans:
            names = ", ".join(f'"{name}"' for name in sorted(orphans))
            warnings.append(
                f"{self.secrets_path} holds passwords for instances that {self.path} does not "
                f"define ({names}); they are ignored and will be dropped at the next save."
            )

    # -- saving ------------------------------------------------------------------------------

    def save(self, data: StoredConfig, secret_ids: frozenset[str]) -> str:
        """Write ``data`` as it is, replacing what is on disk; return the new generation.

        Properties named in ``secret_ids`` go to secrets.json only. Raises StoreError (nothing
        changed) if a file on disk comes from a newer Moorings or a value cannot be stored, and
        StoreError if writing fails. Prefer :meth:`update`, which keeps other writers' changes.
        """
        config_doc, secrets_doc = split(data, secret_ids)
        check_folder(self._folder)
        ensure_dir(self._folder)
        with write_lock(self._folder):
            for path in (self.path, self.secrets_path):
                state = self._examine(path)
                if state.problem is None and state.version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{path} was written by a newer Moorings (schema {state.version}). "
                        "Nothing was saved, so as not to destroy it."
                    )
            return self._save_locked(config_doc, secrets_doc)

    def update(self, change: Callable[[StoredConfig], StoredConfig],
               secret_ids: frozenset[str]) -> UpdateResult:
        """Read what is on disk now, apply ``change`` to it and write the result, all under the
        folder's write lock. ``change`` may raise (ConfigError, say): then nothing is written."""
        check_folder(self._folder)
        ensure_dir(self._folder)
        with write_lock(self._folder):
            loaded = self._load_locked()
            data = change(loaded.data)
            config_doc, secrets_doc = split(data, secret_ids)
            data.generation = self._save_locked(config_doc, secrets_doc)
            data.revision = loaded.data.revision + 1
            self._cached = (self._fingerprints(), data)
            return UpdateResult(data=data, warnings=loaded.warnings)

    def _save_locked(self, config_doc: JsonObject, secrets_doc: JsonObject) -> str:
        try:
            return self._write(config_doc, secrets_doc)
        except OSError as exc:
            raise StoreError(
                f"The configuration could not be saved in {self._folder}: {exc.strerror or exc}. "
                "Nothing was changed."
            ) from None

    def _in_force(self) -> tuple[bytes | None, JsonObject | None, int]:
        """The secrets file's bytes now; the set in force with its generation (the set that the
        moorings.json on disk names); and the revision on disk."""
        config = self._examine(self.path)
        secrets = self._examine(self.secrets_path)
        if config.doc is None:
            return secrets.raw, None, 0
        chosen: JsonObject = {}
        if secrets.doc is not None:
            chosen, _ = paired_secrets(config.doc, secrets.doc)
        in_force: JsonObject = {"generation": text_field(chosen, "generation")}
        for key in _SECRET_SECTIONS:
            if isinstance(chosen.get(key), dict):
                in_force[key] = chosen[key]
        return secrets.raw, in_force, revision_of(config.doc)

    def _write(self, config_doc: JsonObject, secrets_doc: JsonObject) -> str:
        """Write both files as one commit; return the new generation of moorings.json.

        When the secrets are those in force, only moorings.json is written (naming the same set
        of secrets). Otherwise secrets.json first, holding the new set and the one in force; then
        moorings.json naming the new set (the commit); then secrets.json again without the old
        set. A crash or a full disk at any point leaves both old or both new.
        """
        generation = token.token_hex(8)
        old_raw, in_force, revision = self._in_force()
        sets: JsonObject = {k: secrets_doc[k] for k in _SECRET_SECTIONS if k in secrets_doc}
        unchanged = in_force is not None and old_raw is not None and all(
            (in_force.get(k) or {}) == (sets.get(k) or {}) for k in _SECRET_SECTIONS)
        secrets_generation = text_field(in_force, "generation") if unchanged else token.token_hex(8)
        config_out: JsonObject = {"schema": config_doc.get("schema", SCHEMA_VERSION),
                                  "generation": generation, "revision": revision + 1,
                                  "secrets": secrets_generation}
        config_out.update((k, v) for k, v in config_doc.items()
                          if k not in ("schema", "generation", "revision", "secrets"))
        config_bytes = encode(config_out)
        if unchanged:
            atomic_write(self.path, config_bytes, CONFIG_MODE)
            return generation
        secrets_out: JsonObject = {"schema": secrets_doc.get("schema", SCHEMA_VERSION),
                                   "generation": secrets_generation, **sets}
        staged = dict(secrets_out)
        if in_force is not None:
            staged["previous"] = in_force
        atomic_write(self.secrets_path, encode(staged), SECRETS_MODE)
        try:
            atomic_write(self.path, config_bytes, CONFIG_MODE)
        except BaseException:
            # Not committed: moorings.json still names the set in force. Put the old bytes
            # back where the disk allows, so that a refused save leaves no trace.
            with contextlib.suppress(OSError):
                if old_raw is not None:
                    atomic_write(self.secrets_path, old_raw, SECRETS_MODE)
                else:
                    os.unlink(self.secrets_path)
            raise
        if in_force is not None:
            # Committed; the old set (say, a password just changed) is dropped. If this write
            # fails, the next save that changes a secret, or an interrupted-save repair, drops it.
            with contextlib.suppress(OSError):
                atomic_write(self.secrets_path, encode(secrets_out), SECRETS_MODE)
        return generation
