"""Where Moorings keeps its configuration: command line, then environment, then the OS default."""

from __future__ import annotations

import os
from pathlib import Path

from app.errors import StoreError

__all__ = ["CONFIG_DIR_ENV", "config_dir", "ensure_dir"]

CONFIG_DIR_ENV = "MOORINGS_CONFIG_DIR"


def config_dir(cli_value: str | None = None) -> Path:
    """Return the configuration folder: ``--config-dir``, else $MOORINGS_CONFIG_DIR, else the
    platform's per-user configuration folder. An empty value counts as not given."""
    if cli_value:
        return Path(cli_value).expanduser()
    env_value = os.environ.get(CONFIG_DIR_ENV)
    if env_value:
        return Path(env_value).expanduser()
    import platformdirs  # only when the default folder is wanted

    return Path(platformdirs.user_config_dir("moorings"))


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (owner-only, mode 0700) if missing and return it.

    An existing folder keeps its permissions: the person may have widened them on purpose.
    Raises StoreError if the folder cannot be created.
    """
    path = Path(path)
    try:
        # The folder holds secrets.json, so nobody else may even list it.
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(
            f"The configuration folder {path} cannot be created: a file of that name is in the way."
        ) from None
    except OSError as exc:
        raise StoreError(
            f"The configuration folder {path} cannot be created: {exc.strerror or exc}."
        ) from None
    return path
