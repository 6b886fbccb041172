"""The labels Moorings puts on its containers, and the one rule for "this container is ours".

Every caller (orchestrator, inventory, plugin API) decides ownership here: a container is an
instance's only if it carries our managed label, this configuration's store id and an instance
name. Anything else is someone else's and is never adopted, stopped or removed by reconcile.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

LABEL_MANAGED = "io.moorings.managed"
LABEL_INSTANCE = "io.moorings.instance"
LABEL_DIGEST = "io.moorings.config-digest"
LABEL_STORE = "io.moorings.store"
# Set on containers that the plugin API started: framework-managed, but of no instance.
LABEL_OWNER = "io.moorings.owner"
OWNER_API = "api"


class Owner(str, Enum):
    INSTANCE = "instance"  # an instance of this configuration: reconcile owns it
    API = "api"  # started through the plugin API of this configuration
    OTHER_MOORINGS = "other-moorings"  # managed by another Moorings configuration
    FOREIGN = "foreign"  # not made by Moorings


def owner(labels: Mapping[str, str], store_id: str) -> Owner:
    if labels.get(LABEL_MANAGED) != "true":
        return Owner.FOREIGN
    if labels.get(LABEL_OWNER) == OWNER_API:
        return Owner.API
    if labels.get(LABEL_STORE) != store_id or not labels.get(LABEL_INSTANCE):
        return Owner.OTHER_MOORINGS
    return Owner.INSTANCE


def is_ours(labels: Mapping[str, str], store_id: str) -> bool:
    """Whether the container belongs to one of this configuration's instances."""
    return owner(labels, store_id) is Owner.INSTANCE


def instance_of(labels: Mapping[str, str], store_id: str) -> str | None:
    """The instance the container belongs to, if it is one of ours."""
    return labels.get(LABEL_INSTANCE) if is_ours(labels, store_id) else None


def is_managed(labels: Mapping[str, str]) -> bool:
    """Whether some Moorings made it (this configuration or another, an instance or the API)."""
    return labels.get(LABEL_MANAGED) == "true"
