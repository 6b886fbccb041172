"""The `moorings` command: the core's command line, with the window behind a lazy import."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli import main as core_main


def _run_window(args: argparse.Namespace) -> int:
    # Qt is imported only when a window is wanted, so config commands and headless mode start
    # fast and work on a gateway without a display.
    from ui.application import run_window

    return run_window(args)


def main(argv: Sequence[str] | None = None) -> int:
    return core_main(argv, gui=_run_window)


if __name__ == "__main__":
    sys.exit(main())
