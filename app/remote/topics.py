"""Kura's control topics: ``<prefix>/<account>/<client-id>/<app>/<METHOD>/<resources...>``, the
reply topic of a request, the lifecycle topics and the device's own notifications."""

from __future__ import annotations

from dataclasses import dataclass

METHODS = frozenset({"GET", "PUT", "POST", "DEL", "EXEC"})
LIFECYCLE_APP = "MQTT"
IGNORED_APPS = frozenset({LIFECYCLE_APP, "BA"})  # our own BIRTH echoes, Kura's bundle agent
# Method segments that are answers or announcements, never requests (ours included).
NOT_REQUESTS = frozenset({"REPLY", "NOTIFY"})


@dataclass(frozen=True)
class Identity:
    """Who this gateway is in the topics."""

    prefix: str
    account: str
    client_id: str

    @property
    def root(self) -> str:
        return f"{self.prefix}/{self.account}/{self.client_id}"

    @property
    def subscription(self) -> str:
        return f"{self.root}/#"

    def lifecycle(self, kind: str) -> str:
        """``BIRTH``, ``APPS``, ``DC`` or ``LWT``."""
        return f"{self.root}/{LIFECYCLE_APP}/{kind}"

    def reply(self, requester: str, app: str, request_id: str) -> str:
        return f"{self.prefix}/{self.account}/{requester}/{app}/REPLY/{request_id}"

    def notify(self, app: str, *resources: str) -> str:
        """A notification under the device's own subtree (Kapua's ACL lets it write there)."""
        return "/".join((self.root, app, "NOTIFY", *resources))


@dataclass(frozen=True)
class RequestTopic:
    app: str
    method: str
    resources: tuple[str, ...]


def parse_request(topic: str, identity: Identity) -> RequestTopic | None:
    """The app, method and resources of a request to this gateway; None for anything else
    (another device's topic, a lifecycle echo, a reply, a notification)."""
    root = identity.root + "/"
    if not topic.startswith(root):
        return None
    parts = topic[len(root):].split("/")
    if len(parts) < 2 or parts[0] in IGNORED_APPS or parts[1] in NOT_REQUESTS:
        return None
    return RequestTopic(parts[0], parts[1], tuple(p for p in parts[2:] if p != ""))
