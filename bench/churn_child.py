"""A load generator for bench_inventory.py, in its own process so that it never competes with
the measured window for the GIL: start the containers whose ids come on stdin (N at a time,
``argv[1]``, default 4), then remove them all (force), and exit."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import docker


def main() -> int:
    ids = sys.stdin.read().split()
    # A normal program, not the measuring process's raised priority (which it inherits).
    os.setpriority(os.PRIO_PROCESS, 0, 0)
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    client = docker.APIClient(base_url=os.environ["DOCKER_HOST"], version="auto")
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(client.start, ids))
        list(pool.map(lambda i: client.remove_container(i, force=True), ids))
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
