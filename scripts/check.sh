#!/usr/bin/env bash
# The everyday engine-free check (`make check`): ruff, mypy and every test that needs no Docker
# engine, registry or display. Needs no root and no Debian packages: it makes .venv with pip
# when there is none (the full `make test` installs the system packages and the engine).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/pytest" ] || [ ! -x "$VENV/bin/ruff" ] || [ ! -x "$VENV/bin/mypy" ]; then
  python3 -m venv "$VENV" || exit 1
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[test]' || exit 1
fi
export QT_QPA_PLATFORM=offscreen
# The engine tests are deselected, not skipped for want of an engine: this never starts one.
export CI=
failed=()
"$VENV/bin/ruff" check app ui tests bench scripts || failed+=(ruff)
"$VENV/bin/mypy" || failed+=(mypy)
"$VENV/bin/python" -m pytest -q -m "not engine" "$@" || failed+=(pytest)
if [ "${#failed[@]}" -gt 0 ]; then
  echo "check FAILED: ${failed[*]}"
  exit 1
fi
echo "check OK: ruff, mypy and the engine-free tests passed"
