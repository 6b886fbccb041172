"""Signed images on the real engine and the authenticated test registry: the tests push and sign
images in cosign's layout; the right key runs exactly the verified digest, every wrong case
refuses with its sentence and starts nothing (and says it in the headless log), and a running
verified container is left alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from cosign_signing import Signer, signature_layer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from harness import TestEnv
from moorings_process import MooringsProcess, import_config
from orchestration import registry_values, running
from signed_images import Images, images_fixture

from app.orchestrator.state import InstanceStatus, Phase
from app.signing.payload import make_payload

pytestmark = pytest.mark.engine
NAME = "moorings-test-signed"
ANCHOR = "container.signature.trust.anchor"
TLOG = "container.signature.verify.transparency.log"
DIGEST_FIELD = "container.signature.enforcement.digest"


@pytest.fixture
def images(test_env: TestEnv, docker_client: docker.DockerClient) -> Iterator[Images]:
    yield from images_fixture(test_env, docker_client)


def signed_values(env: TestEnv, tag: str, anchor: str, **more: Any) -> dict[str, Any]:
    return registry_values(env, tag, **{"container.image": f"{env.registry}/moorings-test/signed",
                                        ANCHOR: anchor, TLOG: False,
                                        "container.image.download.retries": 1, **more})


def failed(status: InstanceStatus) -> bool:
    return status.phase is Phase.FAILED


def nothing_named(client: docker.DockerClient, name: str) -> bool:
    return client.containers.list(all=True, filters={"name": f"^/{name}$"}) == []


def refused(tmp_path: Path, env: TestEnv, client: docker.DockerClient,
            values: dict[str, Any]) -> str:
    """Create the instance; it must fail without any container; its reason."""
    with running(tmp_path / "cfg", env) as (orch, rec):
        orch.create_instance(NAME, values).result(60)
        status = rec.wait_status(NAME, failed)
        assert nothing_named(client, NAME)
        history = " ".join(e.message for e in orch.history(NAME))
        assert "refused" in history
        return status.reason


def test_right_key_runs_exactly_the_verified_digest(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient, images: Images,
        cleanup: None) -> None:
    signer = Signer.ecdsa()
    tag, digest = images.new_signed_tag(signer)
    with running(tmp_path / "cfg", test_env) as (orch, rec):
        orch.create_instance(NAME, signed_values(test_env, tag, signer.public_pem())).result(60)
        status = rec.wait_phase(NAME, Phase.RUNNING)
        info = docker_client.api.inspect_container(status.container_id)
        # Created by digest: the image that runs is the one verified, whatever the tag says now.
        assert info["Config"]["Image"] == f"{images.repo}@{digest}"
        image = docker_client.api.inspect_image(info["Image"])
        assert f"{images.repo}@{digest}" in image["RepoDigests"]
        # Stored in the instance as Kura does, by Moorings (the container is not recreated).
        stored = orch.repository.instance(NAME).values[DIGEST_FIELD]
        assert stored == digest
        assert orch.status(NAME).container_id == status.container_id  # type: ignore[union-attr]
        kinds = [e.kind for e in orch.history(NAME)]
        assert "verified" in kinds
        # A person's Apply with the form's (stale, empty) copy of the field keeps the digest.
        orch.apply(NAME, {DIGEST_FIELD: ""}).result(60)
        assert orch.repository.instance(NAME).values[DIGEST_FIELD] == digest


@pytest.mark.parametrize("make", [Signer.ed25519, lambda: Signer.rsa("pss")],
                         ids=["ed25519", "rsa-pss"])
def test_other_key_kinds_run(tmp_path: Path, test_env: TestEnv, images: Images,
                             make: Any, cleanup: None) -> None:
    signer = make()
    tag, digest = images.new_signed_tag(signer)
    with running(tmp_path / "cfg", test_env) as (orch, rec):
        orch.create_instance(NAME, signed_values(test_env, tag, signer.public_pem())).result(60)
        rec.wait_phase(NAME, Phase.RUNNING)
        assert orch.repository.instance(NAME).values[DIGEST_FIELD] == digest


def test_wrong_key_starts_nothing(tmp_path: Path, test_env: TestEnv,
                                  docker_client: docker.DockerClient, images: Images,
                                  cleanup: None) -> None:
    tag, digest = images.new_tag()
    images.sign_with(Signer.ecdsa(), digest, tag)
    reason = refused(tmp_path, test_env, docker_client,
                     signed_values(test_env, tag, Signer.ecdsa().public_pem()))
    assert f"the signature of {images.repo}:{tag} ({digest}) does not match the trust anchor" \
        in reason


def test_missing_signature_starts_nothing(tmp_path: Path, test_env: TestEnv,
                                          docker_client: docker.DockerClient, images: Images,
                                          cleanup: None) -> None:
    tag, digest = images.new_tag()
    reason = refused(tmp_path, test_env, docker_client,
                     signed_values(test_env, tag, Signer.ecdsa().public_pem()))
    assert f"no signature for {images.repo}:{tag} ({digest})" in reason


def test_tampered_payload_starts_nothing(tmp_path: Path, test_env: TestEnv,
                                         docker_client: docker.DockerClient, images: Images,
                                         cleanup: None) -> None:
    signer = Signer.ecdsa()
    tag, digest = images.new_tag()
    honest = make_payload(digest, f"{images.repo}:{tag}")
    tampered = honest.replace(b'"optional":null', b'"optional":{"by":"someone else"}')
    images.sign(digest, [signature_layer(signer, digest, tag, payload=tampered,
                                         sign_over=honest)])
    reason = refused(tmp_path, test_env, docker_client,
                     signed_values(test_env, tag, signer.public_pem()))
    assert "does not match the trust anchor" in reason


def test_payload_for_another_digest_starts_nothing(tmp_path: Path, test_env: TestEnv,
                                                   docker_client: docker.DockerClient,
                                                   images: Images, cleanup: None) -> None:
    signer = Signer.ecdsa()
    tag, digest = images.new_tag()
    _, other = images.new_tag()
    # A genuine signature of the other image, put under this image's signature tag.
    images.sign(digest, [signature_layer(signer, other, f"{images.repo}:x")])
    reason = refused(tmp_path, test_env, docker_client,
                     signed_values(test_env, tag, signer.public_pem()))
    assert f"is for another image ({other})" in reason


def _certificate(signer: Signer, days_ago_start: int, days_ago_end: int) -> str:
    key = signer.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "moorings test signer")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=days_ago_start))
            .not_valid_after(now - dt.timedelta(days=days_ago_end))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(("anchor", "words"), [
    ("expired", "the trust anchor certificate expired on"),
    ("garbage", "the trust anchor is not a PEM public key or certificate"),
])
def test_expired_or_garbage_anchor_starts_nothing(tmp_path: Path, test_env: TestEnv,
                                                  docker_client: docker.DockerClient,
                                                  images: Images, anchor: str, words: str,
                                                  cleanup: None) -> None:
    signer = Signer.ecdsa()
    tag, _ = images.new_signed_tag(signer)
    text = _certificate(signer, 60, 30) if anchor == "expired" else "MFkwEwYHKoZIzj0CAQ"
    reason = refused(tmp_path, test_env, docker_client, signed_values(test_env, tag, text))
    assert words in reason


def test_tlog_on_without_proof_refuses_and_a_log_proof_runs(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient, images: Images,
        cleanup: None) -> None:
    signer, log = Signer.ecdsa(), Signer.ecdsa()
    tag, _ = images.new_signed_tag(signer)
    reason = refused(tmp_path, test_env, docker_client,
                     signed_values(test_env, tag, signer.public_pem(), **{TLOG: True}))
    assert "has no transparency-log proof, and Verify in transparency log is on" in reason
    tag2, digest2 = images.new_tag()
    images.sign_with(signer, digest2, tag2, log=log)
    with running(tmp_path / "cfg2", test_env) as (orch, rec):
        orch.update_service({"signature.transparency.log.key": log.public_pem()}).result(60)
        orch.create_instance("moorings-test-tlog", signed_values(
            test_env, tag2, signer.public_pem(), **{TLOG: True})).result(60)
        rec.wait_phase("moorings-test-tlog", Phase.RUNNING)


def test_a_re_pushed_tag_is_verified_again_and_the_verified_container_keeps_running(
        tmp_path: Path, test_env: TestEnv, docker_client: docker.DockerClient, images: Images,
        cleanup: None) -> None:
    signer = Signer.ecdsa()
    tag, digest = images.new_signed_tag(signer)
    with running(tmp_path / "cfg", test_env) as (orch, rec):
        values = signed_values(test_env, tag, signer.public_pem())
        orch.create_instance(NAME, values).result(60)
        first = rec.wait_phase(NAME, Phase.RUNNING)
        # Someone pushes another, unsigned image under the same tag.
        moved = images.push(images.build(), tag)
        assert moved != digest
        # A change of configuration needs a new container: the tag is checked again.
        orch.apply(NAME, {"container.env": "CHANGED=1"}).result(60)
        status = rec.wait_status(NAME, failed)
        assert f"no signature for {images.repo}:{tag} ({moved})" in status.reason
        assert "The container of the previous configuration keeps running." in status.reason
        still = docker_client.api.inspect_container(first.container_id)
        assert still["State"]["Running"] is True
        assert still["Config"]["Image"] == f"{images.repo}@{digest}"
        assert orch.repository.instance(NAME).values[DIGEST_FIELD] == digest


def test_a_refusal_is_said_in_the_headless_log(tmp_path: Path, test_env: TestEnv,
                                               docker_client: docker.DockerClient,
                                               images: Images, cleanup: None) -> None:
    tag, digest = images.new_tag()  # pushed, never signed
    cfg = tmp_path / "cfg"
    import_config(cfg, test_env, {NAME: signed_values(test_env, tag,
                                                      Signer.ecdsa().public_pem())})
    run = MooringsProcess(cfg, "--headless")
    try:
        run.wait_for(f"no signature for {images.repo}:{tag} ({digest})", timeout=120)
        assert nothing_named(docker_client, NAME)
        assert test_env.registry_password not in run.text()
    finally:
        run.close()
