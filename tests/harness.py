"""The test harness: a real Docker engine and a real authenticated registry.

``scripts/test-env.sh start`` (or ``make test-env``) starts both and writes their coordinates
to an env file that ``scripts/run-tests.sh`` exports; :class:`TestEnv` reads them back:

=================================  ==========================================================
``MOORINGS_TEST_DOCKER_HOST``      engine address, e.g. ``unix:///var/run/docker.sock``
``MOORINGS_TEST_REGISTRY``         registry ``host:port`` (plain HTTP on 127.0.0.1)
``MOORINGS_TEST_REGISTRY_USER``    registry user (htpasswd)
``MOORINGS_TEST_REGISTRY_PASSWORD`` its password
``MOORINGS_TEST_REGISTRY_LOG``     the registry's log file (one access line per request)
``MOORINGS_TEST_IMAGE``            local tag of the busybox test image
``MOORINGS_TEST_DOCKERD_PIDFILE``  pidfile of the dockerd the harness started, or empty
=================================  ==========================================================

The same image is in the registry as ``<registry>/moorings-test/busybox:1``
(:attr:`TestEnv.registry_image`). Everything a test creates must be named ``moorings-test*``
or carry the label ``moorings.test=1`` (:data:`TEST_LABELS`): only such objects are cleaned up.

Run as a script, ``python tests/harness.py cleanup [--images]`` removes the test objects.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests

ROOT = Path(__file__).resolve().parent.parent
TEST_PREFIX = "moorings-test"
TEST_LABEL = "moorings.test"
TEST_LABELS = {TEST_LABEL: "1"}

ENV_VARS = {
    "docker_host": "MOORINGS_TEST_DOCKER_HOST",
    "registry": "MOORINGS_TEST_REGISTRY",
    "registry_user": "MOORINGS_TEST_REGISTRY_USER",
    "registry_password": "MOORINGS_TEST_REGISTRY_PASSWORD",
    "registry_log": "MOORINGS_TEST_REGISTRY_LOG",
    "image": "MOORINGS_TEST_IMAGE",
}
PIDFILE_VAR = "MOORINGS_TEST_DOCKERD_PIDFILE"


def env_file() -> Path:
    """The env file ``scripts/test-env.sh start`` writes (``KEY=value`` lines)."""
    return Path(os.environ.get("MOORINGS_TEST_STATE_DIR") or "/tmp/moorings-test-env") / "env"


def read_env_file(path: Path | None = None) -> dict[str, str]:
    """The env file's variables; empty when there is none (or it cannot be read)."""
    try:
        text = (path or env_file()).read_text(encoding="utf-8")
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


class TestEnvMissing(RuntimeError):
    """The env vars are not set, or the engine or registry does not answer."""

    __test__ = False


@dataclass(frozen=True)
class TestEnv:
    """Where the test engine and registry are, as written by ``scripts/test-env.sh start``."""

    __test__ = False  # not a test class, despite its name

    docker_host: str
    registry: str
    registry_user: str
    registry_password: str
    registry_log: Path
    image: str
    dockerd_pidfile: Path | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> TestEnv:
        """From the ``MOORINGS_TEST_*`` variables; when none is set (``os.environ`` only), from
        the env file of a ``make test-env`` run, so plain ``pytest`` works after it."""
        env = os.environ if environ is None else environ
        if environ is None and not any(env.get(var) for var in ENV_VARS.values()):
            env = read_env_file() or env
        missing = [var for var in ENV_VARS.values() if not env.get(var)]
        if missing:
            raise TestEnvMissing(
                f"the test environment is not set up ({', '.join(missing)} unset, "
                f"and no env file at {env_file()})"
            )
        values = {field: env[var] for field, var in ENV_VARS.items()}
        pidfile = env.get(PIDFILE_VAR) or None
        return cls(
            docker_host=values["docker_host"],
            registry=values["registry"],
            registry_user=values["registry_user"],
            registry_password=values["registry_password"],
            registry_log=Path(values["registry_log"]),
            image=values["image"],
            dockerd_pidfile=Path(pidfile) if pidfile else None,
        )

    @property
    def image_repo(self) -> str:
        """``moorings-test/busybox``: the test image's repository, without the tag."""
        return self.image.rsplit(":", 1)[0]

    @property
    def image_tag(self) -> str:
        return self.image.rsplit(":", 1)[1]

    @property
    def registry_repo(self) -> str:
        """``127.0.0.1:5000/moorings-test/busybox``: the test image's repository in the registry."""
        return f"{self.registry}/{self.image_repo}"

    @property
    def registry_image(self) -> str:
        """``127.0.0.1:5000/moorings-test/busybox:1``."""
        return f"{self.registry_repo}:{self.image_tag}"

    @property
    def auth_config(self) -> dict[str, str]:
        """Credentials for the SDK's ``auth_config=`` (pull/push); never ``docker login``."""
        return {"username": self.registry_user, "password": self.registry_password}

    @property
    def engine_restartable(self) -> bool:
        """True when the harness started dockerd itself, so a test may stop and restart it."""
        return self.dockerd_pidfile is not None


def docker_client(env: TestEnv | None = None, timeout: int = 60) -> docker.DockerClient:
    """A client for the test engine, API version negotiated (``version="auto"``)."""
    env = env or TestEnv.from_environ()
    return docker.DockerClient(base_url=env.docker_host, version="auto", timeout=timeout)


def check_env(env: TestEnv) -> None:
    """Raise :class:`TestEnvMissing` with a sentence if the engine or the registry is down."""
    try:
        client = docker_client(env, timeout=10)
        try:
            client.ping()
        finally:
            client.close()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as e:
        raise TestEnvMissing(f"the Docker engine at {env.docker_host} does not answer ({e})") from e
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        opener.open(f"http://{env.registry}/v2/", timeout=5)
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
    except OSError as e:
        raise TestEnvMissing(f"the test registry at {env.registry} does not answer ({e})") from e
    if status != 401:
        raise TestEnvMissing(
            f"the test registry at {env.registry} answered {status}, not 401: is it ours?"
        )


def is_test_name(name: str) -> bool:
    """A container/network/volume name, or an image repository (with or without a registry
    host in front), that belongs to the tests."""
    name = name.lstrip("/")
    if name.startswith(TEST_PREFIX):
        return True
    host, _, rest = name.partition("/")
    registry_host = "." in host or ":" in host or host == "localhost"
    return bool(rest) and registry_host and rest.startswith(TEST_PREFIX)


def _labelled(labels: Mapping[str, str] | None) -> bool:
    return (labels or {}).get(TEST_LABEL) == "1"


def cleanup_test_objects(client: docker.DockerClient, images: bool = False) -> list[str]:
    """Remove (force) every container named ``moorings-test*`` or labelled ``moorings.test=1``,
    whatever its state (Created after a failed start included), then such networks and
    volumes, and with ``images=True`` such image tags too. Returns what was removed; raises
    RuntimeError naming what could not be removed (after trying everything). Nothing else
    is touched."""
    api = client.api
    removed: list[str] = []
    failed: list[str] = []

    def remove(what: str, call: Callable[..., object], *args: object, **kwargs: object) -> None:
        try:
            call(*args, **kwargs)
        except docker.errors.NotFound:
            return  # already gone (removed concurrently, or auto-removed)
        except docker.errors.APIError as e:
            if "already in progress" in str(e.explanation or ""):
                return  # another cleanup (a parallel run) is removing it right now
            failed.append(f"{what}: {e.explanation or e}")
            return
        removed.append(what)

    for c in api.containers(all=True):
        names = [n.lstrip("/") for n in c.get("Names") or []]
        if any(is_test_name(n) for n in names) or _labelled(c.get("Labels")):
            what = f"container {names[0] if names else c['Id'][:12]}"
            remove(what, api.remove_container, c["Id"], force=True, v=True)
    for n in api.networks():
        if is_test_name(n["Name"]) or _labelled(n.get("Labels")):
            remove(f"network {n['Name']}", api.remove_network, n["Id"])
    for v in api.volumes().get("Volumes") or []:
        if is_test_name(v["Name"]) or _labelled(v.get("Labels")):
            remove(f"volume {v['Name']}", api.remove_volume, v["Name"], force=True)
    if images:
        for img in api.images():
            tags = [t for t in img.get("RepoTags") or [] if t != "<none>:<none>"]
            mine = _labelled(img.get("Labels"))
            for tag in tags:
                if mine or is_test_name(tag.rsplit(":", 1)[0]):
                    remove(f"image {tag}", api.remove_image, tag)
            if mine and not tags:
                remove(f"image {img['Id'][:19]}", api.remove_image, img["Id"])
    if failed:
        raise RuntimeError("could not remove: " + "; ".join(failed))
    return removed


_MANIFEST_REQUEST = re.compile(
    r'"(?P<method>HEAD|GET) /v2/(?P<repo>[^ "?]+?)/manifests/(?P<ref>[^ "?]+)[^ "]* HTTP/[0-9.]+" '
    r"(?P<status>[0-9]{3}) "
)


def _registry_path(repo: str) -> str:
    host, _, rest = repo.partition("/")
    if rest and ("." in host or ":" in host or host == "localhost"):
        return rest  # drop a leading host:port/
    return repo


def registry_manifest_requests(
    repo: str, log_path: str | os.PathLike[str] | None = None
) -> list[tuple[str, str, int]]:
    """Every manifest request for ``repo`` in the registry's access log, oldest first, as
    ``(method, reference, status)``, e.g. ``("HEAD", "1", 401)``."""
    repo = _registry_path(repo)
    path = Path(log_path) if log_path else TestEnv.from_environ().registry_log
    found = []
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _MANIFEST_REQUEST.search(line)
            if m and m["repo"] == repo:
                found.append((m["method"], m["ref"], int(m["status"])))
    return found


def registry_pull_count(repo: str, log_path: str | os.PathLike[str] | None = None) -> int:
    """How many pulls of ``repo`` the registry saw, refused ones included (the log is never
    reset while the registry runs: compare counts before and after).

    ``repo`` is the repository inside the registry (``moorings-test/busybox``); a leading
    ``host:port/`` is ignored. One pull is one or two manifest requests: engine 20.10 sends
    ``HEAD manifests/<tag>``, then ``GET manifests/<digest>`` when it lacks the image, or, when
    the HEAD is refused, ``GET manifests/<tag>`` (refused too). So a HEAD starts a pull, and a
    GET starts one unless it follows a HEAD that succeeded or asked for the same reference."""
    count = 0
    previous: tuple[str, str, int] | None = None
    for request in registry_manifest_requests(repo, log_path):
        method, ref, _ = request
        continues = (
            method == "GET"
            and previous is not None
            and previous[0] == "HEAD"
            and (200 <= previous[2] < 300 or previous[1] == ref)
        )
        if not continues:
            count += 1
        previous = request
    return count


def wait_for_pull_count(repo: str, at_least: int, timeout: float = 5.0) -> int:
    """The registry writes its access line just after answering: wait for it."""
    deadline = time.monotonic() + timeout
    while True:
        count = registry_pull_count(repo)
        if count >= at_least or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def stop_engine(env: TestEnv, timeout: float = 30.0) -> None:
    """Stop the dockerd the harness started (SIGTERM, then wait). Only for tests of engine
    restarts; they must skip unless ``env.engine_restartable``. :func:`start_engine` undoes it."""
    if env.dockerd_pidfile is None:
        raise RuntimeError("this dockerd was not started by the harness: it must not be stopped")
    pid = int(env.dockerd_pidfile.read_text().strip())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise TimeoutError(f"dockerd (pid {pid}) did not stop within {timeout:.0f} s")


def start_engine() -> None:
    """Start the engine (and whatever else is missing) again: ``scripts/test-env.sh start``."""
    subprocess.run(
        [str(ROOT / "scripts" / "test-env.sh"), "start"],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=180,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    clean = sub.add_parser("cleanup", help="remove the tests' containers, networks and volumes")
    clean.add_argument("--images", action="store_true", help="the test images too")
    clean.add_argument("--docker-host", help="engine address (default: the env or the default)")
    args = parser.parse_args(argv)
    host = args.docker_host or os.environ.get(ENV_VARS["docker_host"])
    if host:
        client = docker.DockerClient(base_url=host, version="auto", timeout=60)
    else:
        client = docker.from_env(version="auto", timeout=60)
    try:
        for what in cleanup_test_objects(client, images=args.images):
            print(f"removed {what}")
    except RuntimeError as e:
        print(f"harness: {e}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
