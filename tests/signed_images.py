"""Images for the signing tests: built from the test image (a label makes each one distinct),
pushed to the authenticated test registry, and signed there in cosign's layout."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import docker
import docker.errors
from cosign_signing import Layer, Signer, manifest_digest, push_signatures, signature_layer
from harness import TEST_LABELS, TestEnv

SIGNED_REPO = "moorings-test/signed"


@dataclass
class Images:
    """Builds and pushes images; removes every local tag it made at the end."""

    env: TestEnv
    client: docker.DockerClient
    made: list[str] = field(default_factory=list)

    @property
    def repo(self) -> str:
        return f"{self.env.registry}/{SIGNED_REPO}"

    def build(self, variant: str | None = None) -> str:
        """A new local image (its own id), tagged moorings-test-variant:<x>; its tag."""
        variant = variant or uuid.uuid4().hex[:10]
        dockerfile = f"FROM {self.env.image}\nLABEL moorings.test.variant={variant}\n"
        tag = f"moorings-test-variant:{variant}"
        self.client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True,
                                 pull=False, labels=TEST_LABELS)
        self.made.append(tag)
        return tag

    def push(self, local: str, tag: str) -> str:
        """Push ``local`` as ``<registry>/moorings-test/signed:<tag>``; its manifest digest."""
        api = self.client.api
        api.tag(local, self.repo, tag)
        self.made.append(f"{self.repo}:{tag}")
        for item in api.push(self.repo, tag=tag, stream=True, decode=True,
                             auth_config=self.env.auth_config):
            assert "error" not in item, item
        return manifest_digest(self.env.registry, SIGNED_REPO, tag, self.env.registry_user,
                               self.env.registry_password)

    def new_tag(self) -> tuple[str, str]:
        """A new image pushed under a new tag: ``(tag, digest)``."""
        tag = uuid.uuid4().hex[:12]
        return tag, self.push(self.build(), tag)

    def sign(self, digest: str, layers: list[Layer]) -> None:
        push_signatures(self.env.registry, SIGNED_REPO, digest, layers, self.env.registry_user,
                        self.env.registry_password)

    def sign_with(self, signer: Signer, digest: str, tag: str, **options: object) -> None:
        self.sign(digest, [signature_layer(signer, digest, f"{self.repo}:{tag}",
                                           **options)])  # type: ignore[arg-type]

    def new_signed_tag(self, signer: Signer) -> tuple[str, str]:
        """A new tag signed by ``signer``; the tag and its manifest digest."""
        tag, digest = self.new_tag()
        self.sign_with(signer, digest, tag)
        return tag, digest

    def remove(self) -> None:
        for ref in reversed(self.made):
            with contextlib.suppress(docker.errors.APIError):
                self.client.images.remove(ref, force=True)
        # Pulled by digest: those have no tag of their own.
        for image in self.client.images.list(name=self.repo):
            with contextlib.suppress(docker.errors.APIError):
                self.client.images.remove(image.id, force=True)


def images_fixture(env: TestEnv, client: docker.DockerClient) -> Iterator[Images]:
    made = Images(env, client)
    try:
        yield made
    finally:
        made.remove()
