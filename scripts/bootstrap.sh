#!/usr/bin/env bash
# Make this machine ready to develop and test Moorings. Idempotent: safe to run every time.
#
#  1. System packages: the Docker engine, a registry, htpasswd, a static busybox (test image),
#     Xvfb with x11-utils, matchbox and openbox (the window's placement is tested with no
#     window manager and with those two), sshd, openssl, Mosquitto (the MQTT broker of the
#     remote management tests), and the libraries Qt's xcb/offscreen platforms load. Installed with apt-get when missing and we are root; otherwise we say
#     what to install and stop.
#  2. The virtualenv .venv with the project installed editable with its test extras,
#     reinstalled only when pyproject.toml (or the checkout's location) changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'bootstrap: %s\n' "$*"; }

# --- 1. system packages -------------------------------------------------------------------

# command -> Debian package that provides it
declare -A CMD_PKG=(
  [dockerd]=docker.io
  [docker]=docker.io
  [docker-registry]=docker-registry
  [htpasswd]=apache2-utils
  [busybox]=busybox-static
  [Xvfb]=xvfb
  [xwininfo]=x11-utils
  [xprop]=x11-utils
  [matchbox-window-manager]=matchbox-window-manager
  [openbox]=openbox
  [sshd]=openssh-server
  [openssl]=openssl
  [mosquitto]=mosquitto
  [mosquitto_passwd]=mosquitto
)
# shared libraries Qt's xcb and offscreen platform plugins need
LIB_PKGS=(
  libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libpulse0
)

have_cmd() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for cmd in "${!CMD_PKG[@]}"; do
  have_cmd "$cmd" || missing+=("${CMD_PKG[$cmd]}")
done
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${LIB_PKGS[@]}"; do
    pkg_installed "$pkg" || missing+=("$pkg")
  done
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  # de-duplicate, stable order
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing system packages: ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    {
      echo "bootstrap: these system packages are missing: ${missing[*]}"
      echo "Install them (as root, on Debian/Ubuntu) with:"
      echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
      echo "then run scripts/bootstrap.sh again."
    } >&2
    exit 1
  fi
else
  log "system packages: all present"
fi

# The test image copies busybox into a scratch image: it must be the static build.
bb="$(command -v busybox)"
if ldd "$bb" >/dev/null 2>&1; then
  echo "bootstrap: $bb is dynamically linked; the test image needs busybox-static" >&2
  echo "  apt-get install -y --no-install-recommends busybox-static" >&2
  exit 1
fi

# --- 2. virtualenv ---------------------------------------------------------------------------

VENV="$ROOT/.venv"
STAMP="$VENV/.moorings-installed"

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi

want="$( { cat pyproject.toml; echo "root=$ROOT"; "$VENV/bin/python" -V; } 2>&1 | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ] || [ ! -x "$VENV/bin/pytest" ] || [ ! -x "$VENV/bin/ruff" ] \
    || [ ! -x "$VENV/bin/mypy" ]; then
  log "installing the project into $VENV (pip install -e '.[test]')"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[test]'
  printf '%s\n' "$want" >"$STAMP"
else
  log "virtualenv: up to date"
fi
