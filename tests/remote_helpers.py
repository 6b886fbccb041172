"""Gateways for the remote management tests: a folder whose cloud connection points at the
test broker (short keep-alive and backoff: the suite's time), and a core built on it."""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kapua_client import KapuaConsole, Message
from mqtt_harness import MqttEnv

from app.config.repository import ConfigRepository
from app.config.store import ConfigStore
from app.core import Core, build_core
from app.metatype import load_catalog
from app.remote.events import CloudLinkChanged
from app.remote.settings import CLOUD_PID


def client_id() -> str:
    return f"moorings-test-gw-{uuid.uuid4().hex[:8]}"


def cloud_values(env: MqttEnv, cid: str, *, url: str | None = None, tls: bool = False,
                 **over: Any) -> dict[str, object]:
    values: dict[str, object] = {
        "connect.auto-on-startup": True,
        "broker-url": url or (env.tls_url if tls else env.plain_url),
        "username": env.device_user, "password": env.device_password,
        "client-id": cid, "topic.context.account-name": env.account,
        "keep-alive": 2, "connect.retry-interval": 1,
    }
    if tls:
        values["tls.ca.cert"] = str(env.ca)
    values.update(over)
    return values


def store_cloud(folder: Path, values: dict[str, object], docker_host: str | None = None) -> None:
    repo = ConfigRepository(ConfigStore(folder), load_catalog())
    repo.update_component(CLOUD_PID, values)
    if docker_host is not None:
        repo.update_service({"container.engine.host": docker_host})


class LinkEvents:
    """Every CloudLinkChanged of one core, to wait on."""

    def __init__(self) -> None:
        self.q: queue.Queue[CloudLinkChanged] = queue.Queue()
        self.seen: list[CloudLinkChanged] = []

    def __call__(self, event: CloudLinkChanged) -> None:
        self.q.put(event)

    def wait(self, predicate: Any, timeout: float = 30) -> CloudLinkChanged:
        deadline = time.monotonic() + timeout
        for event in self.seen:
            if predicate(event):
                return event
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such link event; seen: {self.seen}")
            try:
                event = self.q.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(event)
            if predicate(event):
                return event


@contextmanager
def gateway(folder: Path, values: dict[str, object], *, docker_host: str | None = None,
            **options: Any) -> Iterator[tuple[Core, LinkEvents]]:
    store_cloud(folder, values, docker_host)
    core = build_core(folder, periodic_interval_s=options.pop("periodic_interval_s", 30.0),
                      **options)
    events = LinkEvents()
    assert core.remote is not None
    core.remote.add_listener(events)
    core.start()
    try:
        yield core, events
    finally:
        core.stop(timeout=5)


def next_message(q: queue.Queue[Message], timeout: float = 30, *,
                 suffix: str | None = None) -> Message:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no message{' ending ' + suffix if suffix else ''}")
        msg = q.get(timeout=left)
        if suffix is None or msg.topic.endswith(suffix):
            return msg


def lifecycle(console: KapuaConsole, cid: str) -> queue.Queue[Message]:
    return console.watch(f"$EDC/{console.account}/{cid}/MQTT/#")

