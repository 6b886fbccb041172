"""`moorings --headless`: the orchestrator without a window, logging plain lines, until a signal."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from app.core import build_core
from app.errors import StoreError
from app.log_setup import configure_logging
from app.orchestrator.events import ConnectionChanged, Event, InstanceRemoved
from app.paths import config_dir

log = logging.getLogger("moorings")


def _log_event(event: Event) -> None:
    if isinstance(event, ConnectionChanged):
        if event.connected:
            log.info("engine: connected to %s (API %s)", event.host, event.api_version)
        else:
            log.warning("engine: not connected to %s: %s", event.host, event.reason)
    elif isinstance(event, InstanceRemoved):
        log.info("%s: deleted", event.name)


def run_headless(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    folder = config_dir(args.config_dir)
    try:
        core = build_core(folder)
    except StoreError as exc:
        log.error("%s", exc)
        return 3
    for warning in core.warnings:
        log.warning("%s", warning)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping, containers keep running", signal.Signals(signum).name)
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    core.orchestrator.add_listener(_log_event)
    log.info("moorings: configuration %s, %d instance(s)", folder,
             len(core.repository.instance_names()))
    core.start()
    try:
        while not done.wait(0.5):
            pass
    finally:
        core.stop(timeout=3.0)
    log.info("moorings: stopped")
    return 0
