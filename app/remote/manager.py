"""Remote management as one part of the core: the cloud connection's settings (the
CloudConnection component), its link, the dispatcher and the applications it serves."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from app.config.model import Scalar
from app.config.repository import ConfigRepository
from app.inventory.feed import Inventory
from app.metatype import ComponentDescriptor
from app.orchestrator.service import Orchestrator
from app.remote.birth import birth_source
from app.remote.connection import CloudConnection
from app.remote.dispatch import App, Dispatcher
from app.remote.events import CloudLinkChanged
from app.remote.settings import CLOUD_PID, CloudSettings
from app.remote.topics import Identity

log = logging.getLogger(__name__)

LinkListener = Callable[[CloudLinkChanged], None]
WATCH_S = 1.0


class RemoteManager:
    """Owns the cloud link of one configuration folder; :meth:`start` and :meth:`stop`.

    Listeners get :class:`CloudLinkChanged` on the link's thread (the window's bridge queues it
    to the GUI thread); :meth:`link` is the state now, for a listener that comes late.
    """

    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator
        self.repository: ConfigRepository = orchestrator.repository
        self.descriptor: ComponentDescriptor = self.repository.catalog.by_pid(CLOUD_PID)
        self._listeners: list[LinkListener] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moorings-cloud-save")
        self.dispatcher = Dispatcher(self._publish, self._identity, self._gzip_ok,
                                     on_apps_changed=self._apps_changed)
        self.connection = CloudConnection(self.settings, on_message=self.dispatcher.on_message,
                                          on_state=self._emit,
                                          birth=birth_source(self.dispatcher.app_ids))
        self._watch = threading.Thread(target=self._watch_settings, name="moorings-cloud-watch",
                                       daemon=True)
        self._started = False
        self._feed: Inventory | None = None
        self._feed_started = False

    def own_feed(self, feed: Inventory) -> None:
        """A live inventory this link starts when it first connects, and stops with itself."""
        self._feed = feed

    # -- settings ------------------------------------------------------------------------------
    def values(self) -> dict[str, Scalar]:
        """The component's values (defaults, then stored), for the form."""
        return self.repository.component_values(CLOUD_PID)

    def settings(self) -> CloudSettings:
        return CloudSettings.from_values(self.descriptor, self.values())

    def security_warning(self, values: Mapping[str, Scalar]) -> str | None:
        """What the values in a form would mean for safety, before they are applied."""
        return CloudSettings.from_values(self.descriptor, values).security_warning()

    def update_settings(self, values: Mapping[str, object]) -> Future[dict[str, Scalar]]:
        """Validate and store the settings (ConfigError in the future: nothing changed), then
        reconnect with them. Never blocks the caller."""
        def run() -> dict[str, Scalar]:
            stored = self.repository.update_component(CLOUD_PID, values)
            self.connection.reconfigure()
            return stored
        return self._writer.submit(run)

    # -- the link ------------------------------------------------------------------------------
    def link(self) -> CloudLinkChanged:
        return self.connection.state

    def add_listener(self, listener: LinkListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: LinkListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def register(self, app: App) -> None:
        self.dispatcher.register(app)

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.connection.start()
        self._watch.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Leave the broker cleanly (DC, then DISCONNECT: no last will)."""
        self._stopping.set()
        if self._started:
            self.connection.stop(timeout)
        if self._feed is not None and self._feed_started:
            self._feed.stop(0)
        self.dispatcher.shutdown()
        self._writer.shutdown(wait=False)

    # -- inside ----------------------------------------------------------------------------------
    def _emit(self, event: CloudLinkChanged) -> None:
        if event.connected and self._feed is not None and not self._feed_started \
                and not self._stopping.is_set():
            self._feed_started = True
            self._feed.start()
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("a cloud link listener failed")

    def publish(self, topic: str, data: bytes, qos: int = 0) -> bool:
        """Queue a message to the broker; False when not connected (it is dropped)."""
        return self.connection.publish(topic, data, qos)

    def identity(self) -> Identity | None:
        """Who this gateway is in the topics of the connection in force."""
        return self._identity()

    def _publish(self, topic: str, data: bytes, qos: int) -> bool:
        return self.connection.publish(topic, data, qos)

    def _identity(self) -> Identity | None:
        settings = self.connection.settings
        return settings.identity if settings is not None else None

    def _gzip_ok(self) -> bool:
        settings = self.connection.settings
        return settings.gzip if settings is not None else False

    def _apps_changed(self) -> None:
        self.connection.publish_apps()

    def _watch_settings(self) -> None:
        # Another program (a config import) may change the settings; the orchestrator's config
        # watch takes the files into the repository, and this notices the difference.
        while not self._stopping.wait(WATCH_S):
            try:
                current = self.connection.settings
                if current is not None and self.settings() != current:
                    log.info("cloud: the cloud connection settings changed; reconnecting")
                    self.connection.reconfigure()
            except Exception:
                log.exception("cloud: looking at the settings failed")
