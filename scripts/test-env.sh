#!/usr/bin/env bash
# The real Docker engine, the real authenticated registry and the MQTT broker (Debian's
# Mosquitto, with passwords, TLS and Kapua's device ACL) that Moorings' tests use.
#
#   scripts/test-env.sh start     start what is missing (idempotent), write the env file
#   scripts/test-env.sh stop      remove test objects, stop the registry and the dockerd WE started
#   scripts/test-env.sh env       print the env file as `export KEY=value` lines
#   scripts/test-env.sh env-file  print the env file's path
#
# State lives in $MOORINGS_TEST_STATE_DIR (default /tmp/moorings-test-env): dockerd's pidfile
# and log (only when we started it), the registry's config, htpasswd, data, log and pidfile, the
# registry password (generated once per state folder, mode 0600), and the env file. The broker
# lives in $STATE/mosquitto: its config, password file, ACL, the CA and server certificate the
# harness generates (and a second CA that signed nothing, for the wrong-CA tests), its log,
# pidfile, and an env file of its own (mosquitto/env: other checkouts rewrite the main one).
#
# Only objects named moorings-test* or labelled moorings.test=1 are ever removed; a dockerd
# that was already running is used as it is and never stopped. See docs in tests/harness.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${MOORINGS_TEST_STATE_DIR:-/tmp/moorings-test-env}"
REG_DIR="$STATE/registry"
ENV_FILE="$STATE/env"
DOCKERD_PIDFILE="$STATE/dockerd.pid"
DOCKERD_LOG="$STATE/dockerd.log"
REG_PIDFILE="$REG_DIR/registry.pid"
REG_LOG="$REG_DIR/registry.log"
REG_PORTFILE="$REG_DIR/port"
REG_PASSFILE="$STATE/registry-password"
MQ_DIR="$STATE/mosquitto"
MQ_PIDFILE="$MQ_DIR/mosquitto.pid"
MQ_LOG="$MQ_DIR/mosquitto.log"
MQ_ENV="$MQ_DIR/env"
# Loopback only, and never the well-known 1883/8883 (a broker of this machine's own may be there).
MQ_PLAIN_PORT="${MOORINGS_TEST_MQTT_PLAIN_PORT:-11883}"
MQ_TLS_PORT="${MOORINGS_TEST_MQTT_TLS_PORT:-18883}"
MQ_ACCOUNT="moorings-test"
MQ_DEVICE_USER="moorings-test-device"
MQ_SERVER_USER="moorings-test-server"

IMAGE="moorings-test/busybox:1"          # local tag of the test image
REG_REPO_PATH="moorings-test/busybox"    # its repository inside the registry
REG_USER="moorings-test"
APPLETS=(sh sleep echo httpd env ls cat nc true printenv id)
PY="$ROOT/.venv/bin/python"
DOCKER_HOST_URL="${DOCKER_HOST:-unix:///var/run/docker.sock}"

log() { printf 'test-env: %s\n' "$*"; }
die() { printf 'test-env: ERROR: %s\n' "$*" >&2; exit 1; }

take_lock() {
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  exec 9>"$STATE/lock"
  flock -w 600 9 || die "another scripts/test-env.sh has held $STATE/lock for 10 minutes"
}

# pid_is PIDFILE NAME: the pidfile names a live process whose command line mentions NAME
pid_is() {
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

# stop_pid PIDFILE NAME SECONDS: TERM, wait, then KILL; only if the pid is still NAME
stop_pid() {
  local pidfile="$1" name="$2" secs="$3" pid i
  if pid_is "$pidfile" "$name"; then
    pid="$(cat "$pidfile")"
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) did not stop in ${secs}s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# find_pids PATTERN: pids of processes whose command line (args joined by spaces) matches PATTERN
find_pids() {
  local d
  for d in /proc/[0-9]*; do
    [ -r "$d/cmdline" ] || continue
    if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -Eq -- "$1"; then echo "${d#/proc/}"; fi
  done
}

engine_up() { timeout 20 docker info >/dev/null 2>&1; }

# http_status URL: the HTTP status code, 0 when nothing answers (no proxy, 2 s timeout)
http_status() {
  python3 - "$1" <<'EOF'
import sys
import urllib.error
import urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    print(opener.open(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print(0)
EOF
}

port_free() {
  python3 - "$1" <<'EOF'
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the registry does: TIME_WAIT is free
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

# --- the engine -------------------------------------------------------------------------------

# Before starting dockerd (none runs): pidfiles left by a dockerd that was killed would stop the
# new one. Its managed containerd may still be shutting down: give it time to go.
clear_stale_pidfiles() {
  local cpid=/var/run/docker/containerd/containerd.pid i
  if [ -f /var/run/docker.pid ] && ! pid_is /var/run/docker.pid dockerd; then
    rm -f /var/run/docker.pid
  fi
  if pid_is "$cpid" containerd && [ ! -S /var/run/docker/containerd/containerd.sock ]; then
    log "engine: waiting for the containerd of a stopped dockerd (pid $(cat "$cpid")) to exit"
    for ((i = 0; i < 150; i++)); do pid_is "$cpid" containerd || break; sleep 0.1; done
  fi
  if [ -f "$cpid" ] && ! pid_is "$cpid" containerd; then
    rm -f "$cpid"
  fi
}

start_engine() {
  if engine_up; then
    pid_is "$DOCKERD_PIDFILE" dockerd || rm -f "$DOCKERD_PIDFILE"
    if [ -s "$DOCKERD_PIDFILE" ]; then
      log "engine: answering (our dockerd, pid $(cat "$DOCKERD_PIDFILE"))"
    else
      log "engine: answering (not started by us: it will be left running)"
    fi
    return
  fi
  local i other
  # Never start a second dockerd: wait for one that is still starting up (ours or not).
  other="$(find_pids '^(/usr/s?bin/)?dockerd( |$)' | tr '\n' ' ')"
  if [ -n "$other" ]; then
    log "engine: a dockerd is running (pid ${other% }) but does not answer yet; waiting"
    for ((i = 0; i < 120; i++)); do engine_up && break; sleep 0.5; done
    engine_up || die "dockerd (pid $other) is running but 'docker info' fails; see $DOCKERD_LOG or stop it"
    return
  fi
  rm -f "$DOCKERD_PIDFILE"
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "unix:///var/run/docker.sock" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local dockerd in its place"
  fi
  command -v dockerd >/dev/null 2>&1 || die "dockerd is not installed: run scripts/bootstrap.sh"
  local launched="" attempt
  for attempt in 1 2; do
    clear_stale_pidfiles
    log "engine: starting dockerd (log: $DOCKERD_LOG)"
    echo "---- $(date -u +%FT%TZ) scripts/test-env.sh starts dockerd (attempt $attempt)" >>"$DOCKERD_LOG"
    setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
    launched=$!
    for ((i = 0; i < 120; i++)); do
      engine_up && break
      kill -0 "$launched" 2>/dev/null || break
      sleep 0.5
    done
    engine_up && break
    if kill -0 "$launched" 2>/dev/null; then break; fi   # alive but silent: don't start another
    if [ "$attempt" = 1 ]; then
      log "engine: dockerd exited at start; trying once more. Its log ended with:"
      tail -5 "$DOCKERD_LOG" || true
    fi
  done
  if ! engine_up; then
    tail -50 "$DOCKERD_LOG" >&2 || true
    die "dockerd did not answer within 60 s (log above, in $DOCKERD_LOG)"
  fi
  if pid_is /var/run/docker.pid dockerd; then
    cp /var/run/docker.pid "$DOCKERD_PIDFILE"
  else
    echo "$launched" >"$DOCKERD_PIDFILE"
  fi
  log "engine: dockerd answering (pid $(cat "$DOCKERD_PIDFILE"))"
}

build_image() {
  if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "image: $IMAGE present"
    return
  fi
  local bb d a
  bb="$(command -v busybox)" || die "busybox is not installed: run scripts/bootstrap.sh"
  d="$(mktemp -d)"
  chmod 755 "$d"
  mkdir -p "$d/bin" "$d/tmp" "$d/data"
  chmod 1777 "$d/tmp"
  cp "$bb" "$d/bin/busybox"
  for a in "${APPLETS[@]}"; do
    if "$bb" --list | grep -qx -- "$a"; then
      ln -s busybox "$d/bin/$a"
    elif [ "$a" = printenv ]; then
      # Debian's busybox-static has no printenv applet: a POSIX sh stand-in
      cat >"$d/bin/printenv" <<'SH'
#!/bin/sh
# printenv [NAME...] (stand-in: this busybox has no printenv applet)
[ "$#" -eq 0 ] && exec env
rc=0
for n in "$@"; do
  case "$n" in '' | [0-9]* | *[!A-Za-z0-9_]*) rc=1; continue ;; esac
  if eval "[ -n \"\${$n+set}\" ]"; then eval "printf '%s\n' \"\$$n\""; else rc=1; fi
done
exit "$rc"
SH
      chmod 755 "$d/bin/printenv"
    else
      die "$bb has no '$a' applet"
    fi
  done
  tar -C "$d" -c . | docker import \
    --change 'CMD ["sh"]' --change 'ENV PATH=/bin' --change 'LABEL moorings.test=1' \
    - "$IMAGE" >/dev/null
  rm -rf "$d"
  log "image: built $IMAGE"
}

# --- the registry ----------------------------------------------------------------------------

registry_up() {
  pid_is "$REG_PIDFILE" docker-registry && [ -s "$REG_PORTFILE" ] \
    && [ "$(http_status "http://127.0.0.1:$(cat "$REG_PORTFILE")/v2/")" = 401 ]
}

pick_port() {
  local p
  for p in "$(cat "$REG_PORTFILE" 2>/dev/null || echo 5000)" 5000 $(seq 5001 5099); do
    if port_free "$p"; then echo "$p"; return; fi
  done
  die "no free port in 127.0.0.1:5000-5099 for the test registry"
}

start_registry() {
  mkdir -p "$REG_DIR/data"
  if [ ! -s "$REG_PASSFILE" ]; then
    (umask 077 && openssl rand -hex 16 >"$REG_PASSFILE")
  fi
  chmod 600 "$REG_PASSFILE"
  if [ ! -s "$REG_DIR/htpasswd" ] || [ "$REG_PASSFILE" -nt "$REG_DIR/htpasswd" ]; then
    (umask 077 && htpasswd -Bbn "$REG_USER" "$(cat "$REG_PASSFILE")" >"$REG_DIR/htpasswd")
  fi
  if registry_up; then
    log "registry: running on 127.0.0.1:$(cat "$REG_PORTFILE") (pid $(cat "$REG_PIDFILE"))"
    return
  fi
  stop_pid "$REG_PIDFILE" docker-registry 5   # ours, but not answering
  command -v docker-registry >/dev/null 2>&1 \
    || die "docker-registry is not installed: run scripts/bootstrap.sh"
  local port i
  port="$(pick_port)"
  echo "$port" >"$REG_PORTFILE"
  cat >"$REG_DIR/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog: {disabled: false}
storage:
  filesystem: {rootdirectory: $REG_DIR/data}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$port
  secret: moorings-test-only
auth:
  htpasswd: {realm: moorings-test, path: $REG_DIR/htpasswd}
EOF
  log "registry: starting on 127.0.0.1:$port (log: $REG_LOG)"
  setsid docker-registry serve "$REG_DIR/config.yml" >"$REG_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$REG_PIDFILE"
  for ((i = 0; i < 100; i++)); do
    registry_up && break
    sleep 0.1
  done
  if ! pid_is "$REG_PIDFILE" docker-registry; then   # setsid forked: find the real process
    find_pids "^docker-registry serve $REG_DIR/config.yml" | head -1 >"$REG_PIDFILE"
  fi
  if ! registry_up; then
    tail -30 "$REG_LOG" >&2 || true
    die "the registry did not answer on 127.0.0.1:$port (log above, in $REG_LOG)"
  fi
}

# Push a copy of the test image with the SDK; a push reports auth errors only in its stream.
push_image() {
  [ -x "$PY" ] || die "$PY is missing: run scripts/bootstrap.sh"
  local registry
  registry="127.0.0.1:$(cat "$REG_PORTFILE")"
  MT_BASE="$DOCKER_HOST_URL" MT_IMAGE="$IMAGE" MT_REPO="$registry/$REG_REPO_PATH" \
  MT_TAG="${IMAGE##*:}" MT_USER="$REG_USER" MT_PASSWORD="$(cat "$REG_PASSFILE")" \
    "$PY" - <<'EOF'
import os
import sys

import docker

e = os.environ
client = docker.DockerClient(base_url=e["MT_BASE"], version="auto", timeout=120)
client.images.get(e["MT_IMAGE"]).tag(e["MT_REPO"], e["MT_TAG"])
auth = {"username": e["MT_USER"], "password": e["MT_PASSWORD"]}
for item in client.api.push(e["MT_REPO"], e["MT_TAG"], stream=True, decode=True, auth_config=auth):
    if "error" in item or "errorDetail" in item:
        msg = item.get("error") or item["errorDetail"].get("message")
        sys.exit(f"test-env: ERROR: pushing {e['MT_REPO']}:{e['MT_TAG']} failed: {msg}")
client.close()
EOF
  log "registry: pushed $registry/$REG_REPO_PATH:${IMAGE##*:}"
}

# --- the MQTT broker -------------------------------------------------------------------------

port_listening() {
  python3 - "$1" <<'EOF'
import socket
import sys

s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

mosquitto_up() {
  pid_is "$MQ_PIDFILE" mosquitto && port_listening "$MQ_PLAIN_PORT" && port_listening "$MQ_TLS_PORT"
}

# make_certs: a CA, a server certificate for 127.0.0.1/localhost signed by it, and another CA
# that signed nothing (a client that trusts only it must refuse the broker). Once per folder.
make_certs() {
  local d="$MQ_DIR/certs"
  [ -s "$d/server.crt" ] && [ -s "$d/other-ca.crt" ] && return
  mkdir -p "$d"
  (
    umask 077
    cd "$d" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Moorings test CA" \
      -keyout ca.key -out ca.crt >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Moorings other CA" \
      -keyout other-ca.key -out other-ca.crt >/dev/null 2>&1 &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key \
      -out server.csr >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >server.ext &&
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.crt >/dev/null 2>&1 &&
    rm -f server.csr server.ext ca.srl
  ) || die "could not make the broker's test certificates with openssl"
  chmod 644 "$d/ca.crt" "$d/other-ca.crt" "$d/server.crt"
  log "broker: made a test CA and a server certificate in $d"
}

write_mosquitto_files() {
  local who pw_dev pw_srv
  for who in device server; do
    [ -s "$MQ_DIR/$who-password" ] || (umask 077 && openssl rand -hex 16 >"$MQ_DIR/$who-password")
  done
  pw_dev="$(cat "$MQ_DIR/device-password")"
  pw_srv="$(cat "$MQ_DIR/server-password")"
  if [ ! -s "$MQ_DIR/passwd" ]; then
    (umask 077 && : >"$MQ_DIR/passwd")
    mosquitto_passwd -b "$MQ_DIR/passwd" "$MQ_DEVICE_USER" "$pw_dev"
    mosquitto_passwd -b "$MQ_DIR/passwd" "$MQ_SERVER_USER" "$pw_srv"
  fi
  # Kapua's broker ACL (AclCreator, kura-remote.md §3.4): a device reads and writes only its own
  # subtree, may write replies to any requester and NOTIFY under its own id; the server user
  # (a console, the tests' requester) has the whole account.
  cat >"$MQ_DIR/acl" <<EOF
user $MQ_SERVER_USER
topic readwrite \$EDC/$MQ_ACCOUNT/#
topic readwrite $MQ_ACCOUNT/#

pattern readwrite \$EDC/$MQ_ACCOUNT/%c/#
pattern readwrite $MQ_ACCOUNT/%c/#
pattern write \$EDC/$MQ_ACCOUNT/+/+/REPLY/#
pattern write \$EDC/$MQ_ACCOUNT/+/+/NOTIFY/%c/#
EOF
  local user_line=""
  # As root without this it drops to the user mosquitto, who cannot read the 0600 passwd.
  if [ "$(id -u)" -eq 0 ]; then user_line="user root"; fi
  cat >"$MQ_DIR/mosquitto.conf" <<EOF
# Written by scripts/test-env.sh: loopback only, passwords, TLS, Kapua's device ACL.
per_listener_settings false
allow_anonymous false
password_file $MQ_DIR/passwd
acl_file $MQ_DIR/acl
persistence false
log_dest file $MQ_LOG
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
$user_line

listener $MQ_PLAIN_PORT 127.0.0.1

listener $MQ_TLS_PORT 127.0.0.1
cafile $MQ_DIR/certs/ca.crt
certfile $MQ_DIR/certs/server.crt
keyfile $MQ_DIR/certs/server.key
tls_version tlsv1.2
EOF
}

write_mosquitto_env() {
  (
    umask 077
    cat >"$MQ_ENV.tmp" <<EOF
MOORINGS_TEST_MQTT_PLAIN=mqtt://127.0.0.1:$MQ_PLAIN_PORT
MOORINGS_TEST_MQTT_TLS=mqtts://127.0.0.1:$MQ_TLS_PORT
MOORINGS_TEST_MQTT_CA=$MQ_DIR/certs/ca.crt
MOORINGS_TEST_MQTT_OTHER_CA=$MQ_DIR/certs/other-ca.crt
MOORINGS_TEST_MQTT_ACCOUNT=$MQ_ACCOUNT
MOORINGS_TEST_MQTT_DEVICE_USER=$MQ_DEVICE_USER
MOORINGS_TEST_MQTT_DEVICE_PASSWORD=$(cat "$MQ_DIR/device-password")
MOORINGS_TEST_MQTT_SERVER_USER=$MQ_SERVER_USER
MOORINGS_TEST_MQTT_SERVER_PASSWORD=$(cat "$MQ_DIR/server-password")
MOORINGS_TEST_MQTT_DIR=$MQ_DIR
MOORINGS_TEST_MQTT_LOG=$MQ_LOG
EOF
  )
  mv -f "$MQ_ENV.tmp" "$MQ_ENV"
}

start_mosquitto() {
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] \
    || die "mosquitto is not installed: run scripts/bootstrap.sh"
  mkdir -p "$MQ_DIR"
  chmod 700 "$MQ_DIR"
  make_certs
  write_mosquitto_files
  write_mosquitto_env
  if mosquitto_up; then
    # The ACL may have been rewritten: a HUP makes it read its files again.
    kill -HUP "$(cat "$MQ_PIDFILE")" 2>/dev/null || true
    log "broker: running on 127.0.0.1:$MQ_PLAIN_PORT and :$MQ_TLS_PORT (TLS) (pid $(cat "$MQ_PIDFILE"))"
    return
  fi
  stop_pid "$MQ_PIDFILE" mosquitto 5
  local p i bin
  for p in "$MQ_PLAIN_PORT" "$MQ_TLS_PORT"; do
    port_free "$p" || die "127.0.0.1:$p is taken by another program; set MOORINGS_TEST_MQTT_PLAIN_PORT and _TLS_PORT"
  done
  bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
  log "broker: starting mosquitto on 127.0.0.1:$MQ_PLAIN_PORT and :$MQ_TLS_PORT (log: $MQ_LOG)"
  setsid "$bin" -c "$MQ_DIR/mosquitto.conf" >>"$MQ_LOG" 2>&1 </dev/null 9>&- &
  echo $! >"$MQ_PIDFILE"
  for ((i = 0; i < 100; i++)); do
    mosquitto_up && break
    pid_is "$MQ_PIDFILE" mosquitto || break
    sleep 0.1
  done
  if ! pid_is "$MQ_PIDFILE" mosquitto; then   # setsid forked: find the real process
    find_pids "mosquitto -c $MQ_DIR/mosquitto.conf" | head -1 >"$MQ_PIDFILE"
  fi
  if ! mosquitto_up; then
    tail -20 "$MQ_LOG" >&2 || true
    die "mosquitto did not listen on 127.0.0.1:$MQ_PLAIN_PORT/$MQ_TLS_PORT (log above, in $MQ_LOG)"
  fi
}

write_env() {
  local pidfile=""
  [ -s "$DOCKERD_PIDFILE" ] && pidfile="$DOCKERD_PIDFILE"
  (
    umask 077
    cat >"$ENV_FILE.tmp" <<EOF
MOORINGS_TEST_DOCKER_HOST=$DOCKER_HOST_URL
MOORINGS_TEST_REGISTRY=127.0.0.1:$(cat "$REG_PORTFILE")
MOORINGS_TEST_REGISTRY_USER=$REG_USER
MOORINGS_TEST_REGISTRY_PASSWORD=$(cat "$REG_PASSFILE")
MOORINGS_TEST_REGISTRY_LOG=$REG_LOG
MOORINGS_TEST_IMAGE=$IMAGE
MOORINGS_TEST_DOCKERD_PIDFILE=$pidfile
EOF
    if [ -s "$MQ_ENV" ]; then cat "$MQ_ENV" >>"$ENV_FILE.tmp"; fi
  )
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
  log "env file: $ENV_FILE"
}

cmd_start() {
  take_lock
  start_engine
  build_image
  start_registry
  push_image
  start_mosquitto
  write_env
}

cmd_stop() {
  take_lock
  if engine_up && [ -x "$PY" ]; then
    log "removing test containers, networks, volumes and images"
    "$PY" "$ROOT/tests/harness.py" cleanup --images --docker-host "$DOCKER_HOST_URL" || true
  fi
  stop_pid "$REG_PIDFILE" docker-registry 10
  stop_pid "$MQ_PIDFILE" mosquitto 5
  if [ -s "$DOCKERD_PIDFILE" ]; then
    stop_pid "$DOCKERD_PIDFILE" dockerd 30
  else
    log "engine: not started by us, left running"
  fi
  rm -f "$ENV_FILE"
}

cmd_env() {
  [ -s "$ENV_FILE" ] || die "no env file at $ENV_FILE: run scripts/test-env.sh start"
  sed -e 's/^/export /' "$ENV_FILE"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  env-file) echo "$ENV_FILE" ;;
  *)
    echo "usage: $0 start|stop|env|env-file" >&2
    exit 2
    ;;
esac
