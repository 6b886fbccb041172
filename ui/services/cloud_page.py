"""The page of the cloud connection (remote management over MQTT): which broker, as which
client id, whether it is connected or why not, and its settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from app.metatype import ComponentDescriptor
from ui.services.form_page import FormPage

if TYPE_CHECKING:
    from app.remote.events import CloudLinkChanged
    from ui.bridge import RemoteLike

_BADGES = {"connected": ("connected", "running"), "connecting": ("connecting", "starting"),
           "waiting": ("not connected", "failed"), "disabled": ("off", "disabled")}


class CloudPage(FormPage):
    def __init__(self, component: ComponentDescriptor, remote: RemoteLike,
                 parent: QWidget | None = None) -> None:
        super().__init__(component, None, "cloud-", parent)
        self.setObjectName("cloud-page")
        # A plain mqtt:// URL with a password, or a broker certificate not verified.
        self.security_warning = self.watch_security(remote.security_warning)

    def show_link(self, link: CloudLinkChanged) -> None:
        word, key = _BADGES.get(link.state.value, ("off", "disabled"))
        self.set_badge(word, key)
        sentence = link.sentence()
        if link.state.value == "waiting" and link.retry_in_s > 0:
            sentence += f" (trying again in {link.retry_in_s:.0f} s)"
        self.status_line.setText(sentence[0].upper() + sentence[1:] + ".")
