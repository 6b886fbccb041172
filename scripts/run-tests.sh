#!/usr/bin/env bash
# The one test command (`make test`, and CI through .ci/run): bootstrap the machine, start the
# test engine and registry, then lint (ruff), type-check (mypy) and test (pytest "$@").
# Every step runs even after one fails; the exit status is non-zero if any failed.
# The test containers are removed at the end; the engine and registry are left running
# (for the next run), except in CI (CI=true), where they are stopped.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

section() { printf '\n==== %s ====\n' "$*"; }
in_ci() { case "${CI:-}" in true | TRUE | True | 1 | yes) return 0 ;; *) return 1 ;; esac; }

section "bootstrap (system packages, .venv)"
scripts/bootstrap.sh || { echo "run-tests: bootstrap failed" >&2; exit 1; }

section "test environment (Docker engine, registry)"
scripts/test-env.sh start || { echo "run-tests: could not start the test environment" >&2; exit 1; }
ENV_FILE="$(scripts/test-env.sh env-file)"
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a
export QT_QPA_PLATFORM=offscreen

finish() {
  section "cleanup"
  if in_ci; then
    scripts/test-env.sh stop || true
  else
    .venv/bin/python tests/harness.py cleanup || true
    echo "(the test engine and registry keep running: 'make clean-test-env' stops them)"
  fi
}
trap finish EXIT

declare -a failed=()

section "ruff check app ui tests bench scripts"
.venv/bin/ruff check app ui tests bench scripts || failed+=(ruff)

section "mypy"
.venv/bin/mypy || failed+=(mypy)

section "pytest $*"
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "run-tests: pytest collected no tests" >&2
fi
[ "$rc" -eq 0 ] || failed+=("pytest (exit $rc)")

section "result"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "OK: ruff, mypy and pytest passed"
