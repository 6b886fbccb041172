"""Test helper: rewrite a file forever with atomic_write, alternating two given contents."""

from __future__ import annotations

import sys
from pathlib import Path

from app.config.atomic import atomic_write


# Usage: python atomic_writer.py TARGET CONTENT_A CONTENT_B. It prints "ready" once both
# contents are in memory (so a kill lands in the write loop, not in interpreter start-up),
# then loops until killed; it starts with CONTENT_B because the test seeds TARGET with A.
def main(argv: list[str]) -> None:
    target = Path(argv[1])
    contents = [Path(argv[2]).read_bytes(), Path(argv[3]).read_bytes()]
    print("ready", flush=True)
    turn = 1
    while True:
        atomic_write(target, contents[turn], 0o600)
        turn ^= 1


if __name__ == "__main__":
    main(sys.argv)
