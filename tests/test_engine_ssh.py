"""ssh:// engines: every call is bounded, each failure has its true reason, no ssh is left over."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from endpoints import LOOPBACK, SSHD, SshEndpoint, free_port
from harness import ROOT, TestEnv
from loopback_servers import SilentServer, SilentUnixServer, SshBannerServer
from moorings_process import MooringsProcess
from orchestration import make_orchestrator
from slow_registry import SlowRegistry
from ssh_clients import ssh_client_env, ssh_clients

from app.engine.errors import explain
from app.engine.hosts import EngineTarget
from app.engine.pull import PullError, pull_image
from app.engine.watcher import EventWatcher
from app.orchestrator.events import ConnectionChanged

pytestmark = pytest.mark.skipif(shutil.which("ssh") is None, reason="needs the ssh client")

# Only to fail a test that hangs (the bounds under test are 2 to 10 s), never a duration check.
HANG_LIMIT_S = 60.0


def wait_until(condition: Callable[[], object], what: str, timeout: float = HANG_LIMIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.05)


def on_thread(fn: Callable[[], Any]) -> Any:
    """``fn()`` on a thread, its result or exception; fails the test if it is still waiting
    after HANG_LIMIT_S (the thread is left behind, as a hung call would be)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_S)
    assert not thread.is_alive(), f"still waiting after {HANG_LIMIT_S:g} s"
    return out


def connect_error(target: EngineTarget, timeout: float = 30) -> str:
    """The sentence for the failure to build a client for ``target``."""
    out = on_thread(lambda: target.api_client(timeout=timeout))
    assert "error" in out, f"connected to {target.url}"
    return explain(out["error"], action=f"connecting to the engine at {target.url}")


@pytest.fixture
def ssh_dir(tmp_path: Path) -> Path:
    return tmp_path / "ssh"


# --- a port that is not (or not quite) an SSH server -----------------------------------------


def test_a_port_that_accepts_but_never_speaks_ssh_fails_within_our_connect_timeout(
        ssh_dir: Path) -> None:
    # No ConnectTimeout in the engineer's configuration: Moorings gives ssh 10 s.
    with SilentServer() as server, ssh_client_env(ssh_dir):
        url = f"ssh://tech@{LOOPBACK}:{server.port}"
        sentence = connect_error(EngineTarget(url=url))
        assert sentence == (
            f"{url} accepted the connection but did not answer as an SSH server within 10 s; "
            f"check that port {server.port} in Docker Host URL is the gateway's SSH port")
        assert ssh_clients(server.port) == []


def test_the_engineers_connect_timeout_is_kept(ssh_dir: Path) -> None:
    with SilentServer() as server, ssh_client_env(ssh_dir, "ConnectTimeout 2"):
        url = f"ssh://tech@{LOOPBACK}:{server.port}"
        sentence = connect_error(EngineTarget(url=url))
        assert sentence.startswith(
            f"{url} accepted the connection but did not answer as an SSH server within 2 s")


def test_a_server_stuck_after_its_banner_is_bounded_by_the_login_timeout(ssh_dir: Path) -> None:
    # ssh's own ConnectTimeout does not cover this: it would wait forever.
    with SshBannerServer() as server, ssh_client_env(ssh_dir, "ConnectTimeout 2"):
        url = f"ssh://tech@{LOOPBACK}:{server.port}"
        sentence = connect_error(EngineTarget(url=url))
        assert sentence == (
            f"{url} answered as an SSH server but did not complete the SSH login within 4 s; "
            "check the SSH server on the gateway")
        assert ssh_clients(server.port) == []


def test_refused_is_refused_not_a_stopped_engine(ssh_dir: Path) -> None:
    port = free_port()
    with ssh_client_env(ssh_dir):
        url = f"ssh://tech@{LOOPBACK}:{port}"
        sentence = connect_error(EngineTarget(url=url))
    assert sentence == (
        f"{url} refused the connection: no SSH server listens on {LOOPBACK} port {port}; check "
        "Docker Host URL and that the SSH server runs on the gateway")


def test_an_ended_ssh_leaves_no_file_open(ssh_dir: Path) -> None:
    """Each ssh child writes its stderr to a file of its own: closed once the child is gone."""
    def ssh_files() -> list[str]:
        # (An unnamed temporary file: "/tmp/#123 (deleted)" on Linux.)
        links = []
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):  # (the listing's own descriptor)
                links.append(os.readlink(f"/proc/self/fd/{fd}"))
        return [link for link in links if link.startswith(tempfile.gettempdir())
                and link.endswith("(deleted)")]

    before = ssh_files()
    port = free_port()
    with ssh_client_env(ssh_dir):
        for _ in range(3):
            connect_error(EngineTarget(url=f"ssh://tech@{LOOPBACK}:{port}"))
    assert ssh_files() == before


def test_the_event_stream_reports_a_stuck_login(ssh_dir: Path) -> None:
    lost: list[str] = []
    with SshBannerServer() as server, ssh_client_env(ssh_dir, "ConnectTimeout 2"):
        url = f"ssh://tech@{LOOPBACK}:{server.port}"
        watcher = EventWatcher(EngineTarget(url=url), lambda _e: None, lost.append)
        watcher.start()
        try:
            wait_until(lambda: lost, "the watcher's report")
        finally:
            watcher.stop()
        assert lost == [
            f"{url} answered as an SSH server but did not complete the SSH login within 4 s; "
            "check the SSH server on the gateway"]
        assert ssh_clients(server.port) == []


# --- the real sshd in front of the engine ------------------------------------------------------


@pytest.mark.engine
def test_requests_share_one_ssh_and_closing_the_client_ends_every_one(
        ssh_endpoint: SshEndpoint) -> None:
    with ssh_endpoint.client_env():
        api = EngineTarget(url=ssh_endpoint.url).api_client()
        try:
            for _ in range(5):
                assert isinstance(api.containers(all=True), list)
            # Keep-alive: the five requests (and the version negotiation) used one ssh.
            assert len(ssh_clients(ssh_endpoint.port)) == 1, ssh_clients(ssh_endpoint.port)
            stream = api.events(decode=True)
            reader = threading.Thread(target=lambda: list(stream), daemon=True)
            reader.start()
            wait_until(lambda: len(ssh_clients(ssh_endpoint.port)) >= 1, "the stream's ssh")
        finally:
            api.close()
        reader.join(10)
        assert not reader.is_alive()  # the stream's reader was woken up
        assert ssh_clients(ssh_endpoint.port) == []


@pytest.mark.skipif(not os.access(SSHD, os.X_OK) or shutil.which("docker") is None,
                    reason="needs sshd and the docker CLI")
def test_a_hung_engine_behind_ssh_is_bounded_by_the_read_timeout() -> None:
    # A second sshd whose sessions reach an engine socket that never answers.
    folder = Path(tempfile.mkdtemp(prefix="moorings-test-ssh-hung-"))
    try:
        with SilentUnixServer(str(folder / "engine.sock")) as engine:
            endpoint = SshEndpoint(folder / "sshd", engine.url).start()
            try:
                with endpoint.client_env():
                    sentence = connect_error(EngineTarget(url=endpoint.url), timeout=3)
                assert sentence == (
                    f"connecting to the engine at {endpoint.url} got no answer from the Docker "
                    f"engine behind {endpoint.url} within 3 s; the ssh login worked, so check "
                    "the engine on the gateway")
                assert ssh_clients(endpoint.port) == []
            finally:
                endpoint.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.engine
def test_a_pull_over_ssh_ends_at_its_deadline_and_leaves_no_ssh(
        ssh_endpoint: SshEndpoint, test_env: TestEnv, docker_client: docker.DockerClient) -> None:
    tag = f"ssh-{uuid.uuid4().hex[:10]}"
    api = docker_client.api
    remote = f"{test_env.registry}/{test_env.image_repo}"
    api.tag(test_env.image, remote, tag)
    try:
        for item in api.push(remote, tag=tag, stream=True, decode=True,
                             auth_config=test_env.auth_config):
            assert "error" not in item, item
    finally:
        api.remove_image(f"{remote}:{tag}")
    with SlowRegistry(test_env.registry, "hang-on-manifest") as proxy, \
            ssh_endpoint.client_env():
        reference = f"{proxy.address}/{test_env.image_repo}:{tag}"
        target = EngineTarget(url=ssh_endpoint.url)
        out = on_thread(lambda: pull_image(target.api_client, reference, test_env.auth_config,
                                           timeout_s=3))
        assert proxy.held.is_set()
    error = out.get("error")
    assert isinstance(error, PullError), out
    assert error.kind == "deadline"
    assert not [t for t in threading.enumerate() if t.name == "moorings-pull" and t.is_alive()]
    assert ssh_clients(ssh_endpoint.port) == []


# --- stopping Moorings ends its ssh ------------------------------------------------------------


@pytest.mark.engine
def test_stopping_a_connected_orchestrator_ends_its_ssh(
        tmp_path: Path, test_env: TestEnv, ssh_endpoint: SshEndpoint) -> None:
    with ssh_endpoint.client_env():
        orch = make_orchestrator(tmp_path, test_env)
        orch.repository.update_service({"container.engine.host": ssh_endpoint.url})
        events: list[object] = []
        orch.add_listener(events.append)
        orch.start()
        try:
            wait_until(lambda: any(isinstance(e, ConnectionChanged) and e.connected
                                   for e in list(events)), "the connection")
            assert ssh_clients(ssh_endpoint.port)  # the client and the event stream
        finally:
            orch.stop()
        assert ssh_clients(ssh_endpoint.port) == []


def test_stopping_an_orchestrator_stuck_connecting_ends_its_ssh(
        tmp_path: Path, ssh_dir: Path) -> None:
    from app.config.repository import ConfigRepository
    from app.config.store import ConfigStore
    from app.metatype import load_catalog
    from app.orchestrator.service import Orchestrator

    with SilentServer() as server, ssh_client_env(ssh_dir):
        repo = ConfigRepository(ConfigStore(tmp_path / "cfg"), load_catalog())
        repo.update_service({"container.engine.host": f"ssh://tech@{LOOPBACK}:{server.port}"})
        orch = Orchestrator(repo)
        orch.start()
        try:
            wait_until(server.accepted.is_set, "the ssh connection")
            wait_until(lambda: ssh_clients(server.port), "the ssh process")
        finally:
            orch.stop(timeout=1.0)  # the reconcile thread is still waiting for the banner
        assert ssh_clients(server.port) == []


@pytest.mark.parametrize("how", ["headless", pytest.param("window", marks=pytest.mark.gui)])
def test_moorings_exits_without_leaving_ssh_behind(
        tmp_path: Path, ssh_dir: Path, how: str) -> None:
    cfg = tmp_path / "cfg"
    with SilentServer() as server, ssh_client_env(ssh_dir):
        doc = {"service": {"container.engine.host": f"ssh://tech@{LOOPBACK}:{server.port}"},
               "instances": {}}
        source = tmp_path / "import.json"
        source.write_text(json.dumps(doc), encoding="utf-8")
        imported = subprocess.run(
            [sys.executable, "-m", "app", "--config-dir", str(cfg), "config", "import",
             str(source)], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
        assert imported.returncode == 0, imported.stderr
        if how == "headless":
            run = MooringsProcess(cfg, "--headless")
        else:
            run = MooringsProcess(cfg, module="ui.launcher", env={"QT_QPA_PLATFORM": "offscreen"})
        try:
            wait_until(server.accepted.is_set, "the ssh connection")
            run.proc.send_signal(signal.SIGTERM)
            assert run.proc.wait(timeout=30) == 0, run.text()
        finally:
            run.close()
        assert ssh_clients(server.port) == [], run.text()



@pytest.mark.parametrize(
    ("config", "given", "kept"),
    [
        # Nothing set (and BatchMode on, which makes ssh report a keepalive of 300 s).
        (["BatchMode yes"], ["ConnectTimeout=10", "ServerAliveInterval=15"], []),
        (["ConnectTimeout 4", "ServerAliveInterval 30"], [], []),
        (["LogLevel DEBUG1"], ["ConnectTimeout=10", "ServerAliveInterval=15"], ["LogLevel"]),
    ],
)
def test_ssh_options_fill_in_only_what_the_engineers_config_leaves_open(
        ssh_dir: Path, config: list[str], given: list[str], kept: list[str]) -> None:
    from app.engine.ssh import SshHost, SshOptions

    with ssh_client_env(ssh_dir, *config):
        options = SshOptions.for_host(SshHost.parse(f"ssh://tech@{LOOPBACK}:2222"))
    argv = list(options.argv)
    assert argv[-3:] == ["--", LOOPBACK, "docker system dial-stdio"]
    pairs = {argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-o"}
    assert {"BatchMode=yes", "ControlMaster=no"} <= pairs  # never a prompt, never a master
    for option in ("ConnectTimeout", "ServerAliveInterval"):
        mine = [p for p in pairs if p.startswith(f"{option}=")]
        assert mine == [p for p in given if p.startswith(f"{option}=")], pairs
    for option in kept:
        assert not [p for p in pairs if p.startswith(f"{option}=")], pairs
    assert options.connect_timeout_s == (4 if "ConnectTimeout 4" in config else 10)


@pytest.fixture
def sshd_to(tmp_path: Path) -> Iterator[Callable[[str], SshEndpoint]]:
    """``start(docker_host)``: a private sshd whose sessions reach ``docker_host``."""
    if not os.access(SSHD, os.X_OK) or shutil.which("docker") is None:
        pytest.skip("needs sshd and the docker CLI")
    started: list[SshEndpoint] = []

    def start(docker_host: str) -> SshEndpoint:
        endpoint = SshEndpoint(tmp_path / f"sshd-{len(started)}", docker_host).start()
        started.append(endpoint)
        return endpoint

    yield start
    for endpoint in started:
        endpoint.stop()


def test_an_unknown_host_key_is_named(sshd_to: Callable[[str], SshEndpoint],
                                      ssh_dir: Path) -> None:
    endpoint = sshd_to(f"unix://{ssh_dir}/engine.sock")
    with ssh_client_env(ssh_dir):  # an empty known_hosts: ssh has never seen this host
        sentence = connect_error(EngineTarget(url=endpoint.url))
    assert sentence == (
        f"ssh does not trust the host key of {LOOPBACK} (unknown or changed), so it did not "
        f"log in to {endpoint.url}; run `ssh -p {endpoint.port} root@{LOOPBACK}` once in a "
        "terminal to check and accept the key")


def test_a_refused_login_is_named(sshd_to: Callable[[str], SshEndpoint]) -> None:
    endpoint = sshd_to("unix:///nonexistent/docker.sock")
    url = f"ssh://nobody@{LOOPBACK}:{endpoint.port}"  # sshd lets only root in
    with endpoint.client_env():
        sentence = connect_error(EngineTarget(url=url))
    assert sentence == (
        f"{url} refused the login of nobody (permission denied; it accepts publickey); check "
        "the user in Docker Host URL and that this user's key is in the gateway's "
        "authorized_keys or in the ssh agent")


def test_a_stopped_engine_behind_a_working_login_is_named(
        sshd_to: Callable[[str], SshEndpoint]) -> None:
    endpoint = sshd_to("unix:///nonexistent/docker.sock")
    with endpoint.client_env():
        sentence = connect_error(EngineTarget(url=endpoint.url))
    assert sentence == (
        f"the Docker engine on {LOOPBACK} is not running (the ssh login to {endpoint.url} "
        "worked, but the engine's socket does not answer); start the engine on the gateway")
    assert ssh_clients(endpoint.port) == []
