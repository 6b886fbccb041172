"""The signature check as a part of an instance's pull step: on the pull worker, before the
pull, with the instance's registry credentials and the engine's idea of which registries are
plain HTTP; what it verified is pulled and created by digest."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from app.engine.errors import registry_of
from app.engine.gateway import Engine
from app.engine.registry import RegistryClient, insecure
from app.engine.spec import ContainerSpec, RegistryCredentials
from app.signing.verify import Verified, verify_image

MAX_CHECK_S = 60.0


def _host(registry: str) -> str:
    text = registry.strip().removeprefix("https://").removeprefix("http://")
    return text.split("/", 1)[0].lower()


def credentials_for(image: str, credentials: RegistryCredentials | None
                    ) -> RegistryCredentials | None:
    """The instance's credentials, only if they are for the image's registry (they are never
    sent to another one)."""
    if credentials is None:
        return None
    if not credentials.registry:
        return credentials
    return credentials if _host(credentials.registry) == _host(registry_of(image)) else None


def verify_signed(engine: Engine, spec: ContainerSpec, log_key: str) -> Verified:
    """Verify the instance's image; raise SignatureRefused or RegistryError with the reason."""
    assert spec.signing is not None
    registry = registry_of(spec.image)
    # Loopback is always plain HTTP to the engine; elsewhere its insecure-registries decide.
    plain = insecure(registry, None) or insecure(registry, engine.info())
    client = RegistryClient(spec.image, credentials_for(spec.image, spec.credentials),
                            plain_http=plain,
                            timeout_s=min(float(spec.pull.timeout_s), MAX_CHECK_S))
    try:
        return verify_image(client, spec.image, spec.tag, spec.signing, log_key)
    finally:
        client.close()


def pinned(spec: ContainerSpec, digest: str) -> ContainerSpec:
    """The spec with the image to create given by digest; its configuration digest (the
    label) is unchanged, so a new verified digest does not by itself recreate the container."""
    reference = f"{spec.image}@{digest}"
    return replace(spec, create_kwargs=MappingProxyType({**spec.create_kwargs,
                                                         "image": reference}))
