"""The `moorings` command: the core's command line, with the window behind a lazy import."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app.cli import main as core_main


def main(argv: Sequence[str] | None = None) -> int:
    return core_main(argv)


if __name__ == "__main__":
    sys.exit(main())
