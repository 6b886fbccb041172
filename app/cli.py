"""The command line: argument parsing and the `config import` / `config export` commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app import __version__
from app.errors import StoreError

if TYPE_CHECKING:
    # Imported by the config commands only: `moorings` opening its window should not wait
    # for the configuration modules (the window loads them on a worker thread).
    from app.config.repository import ConfigRepository

GuiRunner = Callable[[argparse.Namespace], int]
HeadlessRunner = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_STORE = 3


CONFIG_DIR_HELP = ("folder of the configuration (default: $MOORINGS_CONFIG_DIR, else the user's "
                   "config folder for moorings)")
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]
# The values of app.config.kura.ExportFormat, here so that parsing arguments imports nothing.
EXPORT_FORMATS = ["moorings-json", "kura-xml", "kura-json"]


def _add_shared_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every form takes, so they work before or after any subcommand.

    Below the top level their default is "not given" (SUPPRESS): argparse then leaves the
    value from an earlier place alone, and a later place wins when both are given.
    """
    where = parser if top else parser.add_argument_group("options every command takes")
    unset = argparse.SUPPRESS
    where.add_argument("--config-dir", metavar="DIR", default=None if top else unset,
                       help=CONFIG_DIR_HELP)
    where.add_argument("--log-level", default="INFO" if top else unset, choices=LOG_LEVELS,
                       help="how much the log says (default INFO)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moorings",
        description="Configure and run Docker containers on IoT gateways.",
    )
    parser.add_argument("--version", action="version", version=f"moorings {__version__}")
    _add_shared_options(parser, top=True)
    parser.add_argument("--headless", action="store_true",
                        help="run the orchestrator without a window (for a gateway service)")
    parser.add_argument("--touch", action="store_true",
                        help="force the one-pane touch layout (for a small panel)")
    parser.add_argument("--fullscreen", action="store_true",
                        help="open full screen without window decorations (kiosk)")
    parser.add_argument("--normal-priority", action="store_true",
                        help="leave the window at the normal CPU priority (by default it asks "
                             "for a higher one where allowed, to stay responsive while the "
                             "engine is busy)")
    sub = parser.add_subparsers(dest="command")
    cfg = sub.add_parser("config", help="import, export or check the configuration")
    _add_shared_options(cfg, top=False)
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    formats = "Moorings JSON, a Kura snapshot (XML or JSON) or a Kura configuration body"
    imp = cfg_sub.add_parser("import", help="validate a configuration file and store it, all or "
                             "nothing")
    imp.add_argument("file", help=f"the file to import: {formats} ('-' for standard input)")
    _add_shared_options(imp, top=False)
    chk = cfg_sub.add_parser("check", help="validate a configuration file, say what importing it "
                             "would do, and store nothing")
    chk.add_argument("file", help=f"the file to check: {formats} ('-' for standard input)")
    _add_shared_options(chk, top=False)
    exp = cfg_sub.add_parser("export", help="print the configuration (Moorings JSON, or Kura's "
                             "XML or JSON)")
    exp.add_argument("--format", choices=EXPORT_FORMATS, default=EXPORT_FORMATS[0],
                     help="moorings-json (the default), kura-xml (what Kura's web UI and "
                          "Kapua read) or kura-json (Kura's REST and snapshot JSON)")
    exp.add_argument("--include-secrets", action="store_true",
                     help="include registry passwords (left out by default)")
    exp.add_argument("-o", "--output", metavar="FILE",
                     help="write to FILE (mode 0600 with secrets) instead of standard output")
    _add_shared_options(exp, top=False)
    return parser


def open_repository(args: argparse.Namespace) -> ConfigRepository:
    from app.config.repository import ConfigRepository
    from app.config.store import ConfigStore
    from app.metatype import load_catalog
    from app.paths import config_dir

    folder = config_dir(args.config_dir)
    return ConfigRepository(ConfigStore(folder), load_catalog())


def _run_config(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        repo = open_repository(args)
    except StoreError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_STORE
    for warning in repo.load_warnings:
        print(f"warning: {warning}", file=err)

    if args.config_command in ("import", "check"):
        return _import_or_check(args, repo, err)
    return _export(args, repo, out, err)


def _import_or_check(args: argparse.Namespace, repo: ConfigRepository, err: TextIO) -> int:
    from app.config.documents import InputProblem, read_document
    from app.config.kura import plan_import, read_configuration

    try:
        text = read_document(args.file)
    except InputProblem as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    # One path for both: what check accepts, import stores, whatever the file's format.
    parsed = read_configuration(text, repo.catalog)
    plan = plan_import(parsed, repo)
    if args.config_command == "import" and plan.ok:
        try:
            parsed = repo.import_document(parsed)
        except StoreError as exc:
            print(f"error: {exc}", file=err)
            return EXIT_STORE
    for warning in parsed.warnings:
        print(f"warning: {warning}", file=err)
    if parsed.errors:
        for e in parsed.errors:
            print(f"error: {e}", file=err)
        n = len(parsed.errors)
        print(f"{n} error{'s' if n != 1 else ''}; nothing was written.", file=err)
        return EXIT_INVALID
    for line in plan.summary(done=args.config_command == "import"):
        print(line, file=err)
    count = len(parsed.instances)
    verb = "checked" if args.config_command == "check" else "imported"
    service = " and the service settings" if parsed.service is not None else ""
    print(f"{verb} {count} instance{'s' if count != 1 else ''}{service} from {parsed.source}"
          + ("" if args.config_command == "check" else f" into {repo.store.path}"), file=err)
    if args.config_command == "import":
        _report_take_up(repo, err)
    return EXIT_OK


def _export(args: argparse.Namespace, repo: ConfigRepository, out: TextIO, err: TextIO) -> int:
    from app.config.kura import CodecError, ExportFormat, export_view

    try:
        data = export_view(ExportFormat(args.format), repo, repo.catalog,
                           include_secrets=args.include_secrets)
    except CodecError as exc:
        print(f"error: {exc} Nothing was written.", file=err)
        return EXIT_INVALID
    if args.output:
        from app.config.documents import OutputProblem, write_export

        try:
            write_export(Path(args.output), data, holds_secrets=args.include_secrets)
        except OutputProblem as exc:
            print(f"error: {exc}", file=err)
            return EXIT_STORE
    else:
        out.write(data.decode("utf-8"))
    return EXIT_OK


# How long `config import` waits for a running Moorings to take its change up (it looks once a
# second; more than this means it is stuck, and the person should hear so).
TAKE_UP_WAIT_S = 10.0


def _report_take_up(repo: ConfigRepository, err: TextIO) -> None:
    """Tell whether a Moorings running this folder has taken the import up (or will at start)."""
    import time

    from app.orchestrator.lock import holder
    from app.orchestrator.runtime import loaded_revision

    folder = repo.store.folder
    pid = holder(folder)
    if pid is None:
        print("No Moorings is running this configuration now; it takes effect when one starts.",
              file=err)
        return
    who = f"The running Moorings (process {pid})" if pid else "The running Moorings"
    deadline = time.monotonic() + TAKE_UP_WAIT_S
    while time.monotonic() < deadline:
        loaded = loaded_revision(folder)
        if loaded is not None and loaded[1] >= repo.revision:
            print(f"{who} has taken it up and is applying it now.", file=err)
            return
        time.sleep(0.1)
    print(f"warning: {who} has not taken it up within "
          f"{TAKE_UP_WAIT_S:g} s; it is stored and will apply when that Moorings next looks. "
          "If this persists, check that Moorings' log.", file=err)


def main(
    argv: Sequence[str] | None = None,
    *,
    gui: GuiRunner | None = None,
    headless: HeadlessRunner | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Parse ``argv`` and run the command; the GUI and headless runners are injected."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    if args.command == "config":
        return _run_config(args, out, err)
    if args.headless:
        if headless is None:
            from app.headless import run_headless

            headless = run_headless
        return headless(args)
    if gui is None:
        print("error: the window is not available in this build; use --headless.", file=err)
        return EXIT_USAGE
    return gui(args)


if __name__ == "__main__":
    sys.exit(main())
