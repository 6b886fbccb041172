"""The registry client against a loopback registry that asks for Bearer tokens (as Docker Hub,
GHCR or Harbor do) and has the OCI referrers API: the token is fetched from the realm the
challenge names with the instance's credentials, which go nowhere else."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from cosign_signing import MemoryRegistry, Signer, signature_layer

from app.engine.errors import ErrorKind
from app.engine.registry import RegistryClient, RegistryError, insecure, split_repository
from app.engine.spec import RegistryCredentials
from app.orchestrator.signed import credentials_for
from app.signing.verify import SigningPolicy, verify_image

USER, PASSWORD, TOKEN = "deploy", "s3cret-pw", "tok-123"


class TokenRegistry:
    """Serves a MemoryRegistry under /v2/acme/app; every /v2 request needs the Bearer token,
    which /token gives for the right Basic credentials."""

    def __init__(self, content: MemoryRegistry, referrers_api: bool = True) -> None:
        self.content = content
        self.referrers_api = referrers_api
        self.seen: list[tuple[str, str]] = []  # (path, Authorization)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                auth = self.headers.get("Authorization", "")
                outer.seen.append((url.path, auth))
                if url.path == "/token":
                    want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                    query = parse_qs(url.query)
                    if auth != want or query.get("scope") != ["repository:acme/app:pull"]:
                        return self._send(401, b"{}")
                    return self._send(200, json.dumps({"token": TOKEN}).encode())
                if auth != f"Bearer {TOKEN}":
                    realm = f"http://127.0.0.1:{outer.port}/token"
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", f'Bearer realm="{realm}",'
                                     'service="test",scope="repository:acme/app:pull"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                prefix = "/v2/acme/app/"
                rest = url.path[len(prefix):]
                if rest.startswith("manifests/"):
                    found = outer.content.manifest(rest[len("manifests/"):])
                    if found is None:
                        return self._send(404, b"{}")
                    return self._send(200, found.body, found.media_type)
                if rest.startswith("blobs/"):
                    data = outer.content.blobs.get(rest[len("blobs/"):])
                    return self._send(404, b"") if data is None else self._send(200, data)
                if rest.startswith("referrers/") and outer.referrers_api:
                    index = {"schemaVersion": 2, "manifests": outer.content.referrers(
                        rest[len("referrers/"):])}
                    return self._send(200, json.dumps(index).encode(),
                                      "application/vnd.oci.image.index.v1+json")
                return self._send(404, b"404 page not found", "text/plain")

            def _send(self, code: int, body: bytes,
                      ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def image(self) -> str:
        return f"127.0.0.1:{self.port}/acme/app"


@pytest.fixture
def signed() -> tuple[MemoryRegistry, str, Signer]:
    content = MemoryRegistry()
    digest = content.put_image("2")
    signer = Signer.ecdsa()
    content.put_signatures(digest, [signature_layer(signer, digest, "acme/app:2")],
                           as_referrer=True)
    return content, digest, signer


@pytest.fixture
def registry(signed: tuple[MemoryRegistry, str, Signer]) -> Iterator[TokenRegistry]:
    server = TokenRegistry(signed[0])
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_bearer_token_from_the_challenge_and_the_referrers_api(
        registry: TokenRegistry, signed: tuple[MemoryRegistry, str, Signer]) -> None:
    _, digest, signer = signed
    creds = RegistryCredentials(f"127.0.0.1:{registry.port}", USER, PASSWORD)
    client = RegistryClient(registry.image, creds, plain_http=True)
    try:
        verified = verify_image(client, registry.image, "2",
                                SigningPolicy(signer.public_pem(), False))
    finally:
        client.close()
    assert verified.digest == digest
    # The password went to the token service only; the registry saw the token.
    basic = [path for path, auth in registry.seen if auth.startswith("Basic ")]
    assert basic
    assert set(basic) == {"/token"}
    assert any(path.startswith("/v2/acme/app/referrers/") for path, _ in registry.seen)


def test_wrong_credentials_are_a_sentence_without_the_password(
        registry: TokenRegistry, signed: tuple[MemoryRegistry, str, Signer]) -> None:
    # Right credentials first: what the registry accepted is not served to other ones.
    good = RegistryClient(registry.image, RegistryCredentials(None, USER, PASSWORD),
                          plain_http=True)
    assert good.manifest("2") is not None
    good.close()
    client = RegistryClient(registry.image, RegistryCredentials(None, USER, "wrong-pw"),
                            plain_http=True)
    with pytest.raises(RegistryError) as caught:
        verify_image(client, registry.image, "2", SigningPolicy(signed[2].public_pem(), False))
    client.close()
    assert caught.value.kind is ErrorKind.AUTH
    assert "check Authentication Username and Password" in caught.value.sentence
    assert "wrong-pw" not in caught.value.sentence


def test_the_referrers_tag_fallback_where_the_api_is_missing(
        signed: tuple[MemoryRegistry, str, Signer]) -> None:
    content, digest, signer = signed
    # The fallback: an index of the referrers under the tag sha256-<hex>.
    from app.signing.verify import manifest_of
    index = json.dumps({"schemaVersion": 2, "manifests": content.referrers(digest)}).encode()
    content.manifests[digest.replace(":", "-")] = manifest_of(
        index, "application/vnd.oci.image.index.v1+json")
    server = TokenRegistry(content, referrers_api=False)
    server.thread.start()
    try:
        client = RegistryClient(server.image, RegistryCredentials(None, USER, PASSWORD),
                                plain_http=True)
        verified = verify_image(client, server.image, "2",
                                SigningPolicy(signer.public_pem(), False))
        client.close()
    finally:
        server.server.shutdown()
        server.server.server_close()
    assert verified.digest == digest


def test_credentials_go_only_to_their_registry() -> None:
    creds = RegistryCredentials("registry.example.com:5000", USER, PASSWORD)
    assert credentials_for("registry.example.com:5000/acme/app", creds) is creds
    assert credentials_for("evil.example.net/acme/app", creds) is None
    assert credentials_for("nginx", creds) is None
    anywhere = RegistryCredentials(None, USER, PASSWORD)
    assert credentials_for("nginx", anywhere) is anywhere


def test_names_and_plain_http_follow_the_engine() -> None:
    assert split_repository("nginx") == ("docker.io", "registry-1.docker.io", "library/nginx")
    assert split_repository("127.0.0.1:5000/acme/app") == ("127.0.0.1:5000", "127.0.0.1:5000",
                                                           "acme/app")
    assert insecure("127.0.0.1:5000", None)
    assert insecure("localhost:5000", None)
    assert not insecure("registry.example.com", None)
    info = {"RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8", "10.0.0.0/8"],
                               "IndexConfigs": {"lan.registry:5000": {"Secure": False}}}}
    assert insecure("10.1.2.3:5000", info)
    assert insecure("lan.registry:5000", info)
    assert not insecure("192.168.1.9:5000", info)
