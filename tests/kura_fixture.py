"""The Kura snapshot of one container instance (tests/data/kura/engine-instance.xml) filled in
for the test engine and registry: its image, its credentials, its password in Base64."""

from __future__ import annotations

import base64
from pathlib import Path

from harness import TestEnv

KURA_DATA = Path(__file__).resolve().parent / "data" / "kura"
KURA_INSTANCE = "moorings-test-kura"


def kura_instance_text(env: TestEnv) -> str:
    return ((KURA_DATA / "engine-instance.xml").read_text(encoding="utf-8")
            .replace("@REGISTRY@", env.registry).replace("@IMAGE@", env.image_repo)
            .replace("@TAG@", env.image_tag).replace("@USER@", env.registry_user)
            .replace("@PASSWORD_B64@",
                     base64.b64encode(env.registry_password.encode()).decode()))
