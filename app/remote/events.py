"""What the cloud link is doing, for the window's header and the log."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.redact import mask_address, mask_credentials


class LinkState(str, Enum):
    DISABLED = "disabled"        # the cloud connection is turned off in its settings
    CONNECTING = "connecting"    # an attempt is under way
    CONNECTED = "connected"      # CONNACK received, BIRTH sent, subscribed
    WAITING = "waiting"          # not connected; ``reason`` says why, the next try is scheduled


@dataclass(frozen=True)
class CloudLinkChanged:
    """The cloud link's state: to which broker, as which client id, or why not.

    ``warning`` is the settings' security warning (plain mqtt://, verification off), or "".
    ``retry_in_s`` is the wait before the next attempt while WAITING (0: none scheduled).
    """

    state: LinkState
    broker: str
    client_id: str
    account: str
    reason: str = ""
    warning: str = ""
    retry_in_s: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "broker", mask_address(self.broker))
        object.__setattr__(self, "reason", mask_credentials(self.reason))

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    def sentence(self) -> str:
        """One line for a header or a log."""
        who = f"as {self.client_id} (account {self.account})"
        if self.state is LinkState.CONNECTED:
            return f"connected to {self.broker} {who}"
        if self.state is LinkState.DISABLED:
            return "the cloud connection is off"
        if self.state is LinkState.CONNECTING:
            return f"connecting to {self.broker} {who}"
        return f"not connected to {self.broker or 'a broker'}: {self.reason}"
