"""A registry's HTTP API, read-only, for the signature check: manifests (by tag or digest),
blobs, and the OCI referrers (or their tag fallback), with the instance's credentials and the
token or Basic authentication the registry asks for in WWW-Authenticate.

Only the instance's registry (and the token service it names) is contacted; plain HTTP only
for a registry the engine itself treats as insecure (loopback, or its insecure-registries).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from app import threadguard as guard
from app.engine.errors import DOCKER_HUB, EngineError, ErrorKind, registry_of
from app.engine.spec import RegistryCredentials
from app.signing.verify import Manifest, manifest_of

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
HUB_API = "registry-1.docker.io"
_CHALLENGE = re.compile(r'(\w+)\s*=\s*"([^"]*)"')


# The Authorization header each registry last accepted, by (API base, user, password hash):
# the next check sends it at once instead of first being refused (a Bearer token that expired
# is refused, and the challenge is answered again). Memory only.
_ACCEPTED: dict[tuple[str, str, str], str] = {}


class RegistryError(EngineError):
    """The registry refused or could not be reached; the sentence names it."""


def split_repository(image: str) -> tuple[str, str, str]:
    """``(registry as typed, API host, repository path)``: ``nginx`` is Docker Hub's
    ``library/nginx``; ``127.0.0.1:5000/acme/app`` is ``acme/app`` on ``127.0.0.1:5000``."""
    registry = registry_of(image)
    if registry == DOCKER_HUB:
        path = image.split("/", 1)[1] if image.startswith(("docker.io/", "index.docker.io/")) \
            else image
        if "/" not in path:
            path = f"library/{path}"
        return DOCKER_HUB, HUB_API, path
    return registry, registry, image.split("/", 1)[1]


def insecure(registry: str, info: Mapping[str, Any] | None) -> bool:
    """Whether the engine pulls from ``registry`` over plain HTTP: its insecure-registries
    setting (``docker info``), whose default is loopback."""
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    host = host.strip("[]")
    config = (info or {}).get("RegistryConfig") or {}
    index = (config.get("IndexConfigs") or {}).get(registry)
    if isinstance(index, dict) and index.get("Secure") is False:
        return True
    cidrs: Iterable[str] = config.get("InsecureRegistryCIDRs") or ["127.0.0.0/8"]
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for cidr in cidrs:
        try:
            if address in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False


class RegistryClient:
    """One repository of one registry; a client serves one check on one thread."""

    def __init__(self, image: str, credentials: RegistryCredentials | None, *,
                 plain_http: bool, timeout_s: float = 30.0) -> None:
        self.registry, host, self.path = split_repository(image)
        self.image = image
        self._base = f"{'http' if plain_http else 'https'}://{host}/v2/{self.path}"
        self._credentials = credentials if credentials and credentials.username else None
        self._timeout = timeout_s
        self._session = requests.Session()
        # No proxies or .netrc from the environment: only the registry gets our credentials.
        self._session.trust_env = False
        creds = self._credentials
        # Keyed by the password's hash too: new credentials are never served an old token.
        self._key = (self._base, creds.username if creds else "",
                     hashlib.sha256(creds.password.encode()).hexdigest() if creds else "")
        self._authorization: str | None = _ACCEPTED.get(self._key)

    def close(self) -> None:
        self._session.close()

    # -- the RegistryReader protocol ---------------------------------------------------------
    def manifest(self, reference: str) -> Manifest | None:
        response = self._get(f"{self._base}/manifests/{reference}",
                             {"Accept": ", ".join(MANIFEST_TYPES)}, what=reference)
        if response is None:
            return None
        body = self._read(response, MAX_MANIFEST_BYTES, f"the manifest {reference}")
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        return manifest_of(body, media)

    def blob(self, digest: str, max_bytes: int) -> bytes:
        response = self._get(f"{self._base}/blobs/{digest}", {}, what=digest)
        if response is None:
            raise RegistryError(f"the registry {self.registry} has no blob {digest} of "
                                f"{self.path}, though a signature names it", ErrorKind.NOT_FOUND)
        body = self._read(response, max_bytes, f"the blob {digest}")
        got = manifest_of(body, "").digest
        if got != digest:
            raise RegistryError(f"the registry {self.registry} sent a blob of digest {got} for "
                                f"{digest}", ErrorKind.ENGINE)
        return body

    def referrers(self, digest: str) -> list[dict[str, Any]]:
        response = self._get(f"{self._base}/referrers/{digest}", {"Accept": OCI_INDEX},
                             what=digest, missing_ok=(404, 400, 405))
        if response is not None and "json" in response.headers.get("Content-Type", ""):
            index = manifest_of(self._read(response, MAX_MANIFEST_BYTES, "the referrers"),
                                OCI_INDEX)
        else:
            # No referrers API: the OCI tag fallback, an index under sha256-<hex>.
            found = self.manifest(digest.replace(":", "-", 1))
            if found is None:
                return []
            index = found
        manifests = index.document().get("manifests") or []
        return [m for m in manifests if isinstance(m, dict)]

    # -- HTTP --------------------------------------------------------------------------------
    def _get(self, url: str, headers: dict[str, str], *, what: str,
             missing_ok: tuple[int, ...] = (404,)) -> requests.Response | None:
        guard.check()
        response = self._send(url, headers)
        if response.status_code == 401:
            try:
                self._authorization = self._authenticate(response)
            finally:
                response.close()  # also when the challenge fails: its connection goes back
            response = self._send(url, headers)
            if response.status_code != 401 and self._authorization:
                _ACCEPTED[self._key] = self._authorization
            else:
                _ACCEPTED.pop(self._key, None)
        if response.status_code in missing_ok:
            response.close()
            return None
        if response.status_code in (401, 403):
            response.close()
            who = (f"the credentials of {self._credentials.username}" if self._credentials
                   else "an anonymous request")
            raise RegistryError(f"the registry {self.registry} refused {who} for {self.path}; "
                                "check Authentication Username and Password", ErrorKind.AUTH)
        if response.status_code >= 400:
            status = response.status_code
            response.close()
            raise RegistryError(f"the registry {self.registry} answered {status} for {what} of "
                                f"{self.path}", ErrorKind.ENGINE)
        return response

    def _send(self, url: str, headers: dict[str, str]) -> requests.Response:
        sent = dict(headers)
        if self._authorization:
            sent["Authorization"] = self._authorization
        try:
            return self._session.get(url, headers=sent, timeout=self._timeout, stream=True,
                                     allow_redirects=True)
        except requests.RequestException as exc:
            raise RegistryError(f"the registry {self.registry} cannot be reached to check the "
                                f"signature of {self.image}: {_reason(exc)}",
                                ErrorKind.UNREACHABLE) from None

    def _read(self, response: requests.Response, limit: int, what: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise RegistryError(f"{what} from the registry {self.registry} is larger "
                                        f"than {limit // 1024} KiB", ErrorKind.ENGINE)
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise RegistryError(f"reading {what} from the registry {self.registry} failed: "
                                f"{_reason(exc)}", ErrorKind.UNREACHABLE) from None
        finally:
            response.close()
        return b"".join(chunks)

    def _authenticate(self, response: requests.Response) -> str | None:
        """The Authorization header the registry's challenge asks for (Basic, or a Bearer
        token from its token service with our credentials)."""
        challenge = response.headers.get("WWW-Authenticate", "")
        scheme, _, rest = challenge.partition(" ")
        creds = self._credentials
        if scheme.lower() == "basic":
            if creds is None:
                return None
            return requests.auth._basic_auth_str(creds.username, creds.password)
        if scheme.lower() != "bearer":
            return None
        params = dict(_CHALLENGE.findall(rest))
        realm = params.pop("realm", "")
        if not realm.startswith(("https://", "http://")):
            return None
        if realm.startswith("http://") and not self._base.startswith("http://"):
            # Never send credentials in the clear to a token service of an HTTPS registry.
            return None
        params.setdefault("scope", f"repository:{self.path}:pull")
        auth = (creds.username, creds.password) if creds else None
        try:
            token_response = self._session.get(f"{realm}?{urlencode(params)}", auth=auth,
                                               timeout=self._timeout)
        except requests.RequestException as exc:
            raise RegistryError(f"the token service of the registry {self.registry} cannot be "
                                f"reached: {_reason(exc)}", ErrorKind.UNREACHABLE) from None
        if token_response.status_code in (401, 403):
            raise RegistryError(f"the registry {self.registry} refused the credentials for "
                                f"{self.path}; check Authentication Username and Password",
                                ErrorKind.AUTH)
        try:
            doc = token_response.json()
        except ValueError:
            doc = {}
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        return f"Bearer {token}" if isinstance(token, str) and token else None


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "the connection was refused"
    if isinstance(exc, requests.Timeout):
        return "it did not answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        return "its TLS certificate was not accepted"
    return "the connection failed"
