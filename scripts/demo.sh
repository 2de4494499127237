#!/usr/bin/env bash
# `make demo`: fakepve with the demo cluster, SQLite and gunicorn, all on loopback.
# Ctrl-C stops the servers and the worker. Running it again reuses the database and resets the admin password.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
DEMO_DIR="${DEMO_DIR:-$PWD/instance/demo}"
mkdir -p "$DEMO_DIR"

new_secret() { "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(24))'; }
[ -s "$DEMO_DIR/secret_key" ] || new_secret > "$DEMO_DIR/secret_key"

FAKEPVE_ADDRESS="${FAKEPVE_HOST:-127.0.0.2}"
FAKEPVE_PORT="${FAKEPVE_PORT:-8006}"
ADMIN_PASSWORD="${DEMO_ADMIN_PASSWORD:-demo-admin-pw}"
USER_PASSWORD="${DEMO_USER_PASSWORD:-demo-user-pw}"

# The demo's own settings win over anything in .env (python-dotenv does not override).
export SECRET_KEY="$(cat "$DEMO_DIR/secret_key")"
export DATABASE_URL="sqlite:///$DEMO_DIR/portal.sqlite"
export PROXMOX_HOST="$FAKEPVE_ADDRESS:$FAKEPVE_PORT"
export PROXMOX_USER="root@pam" PROXMOX_TOKEN_NAME="portal"
READ_ONLY_ARGS=()
if [ "${DEMO_READ_ONLY:-}" = 1 ]; then  # the README's read-only setup: a PVEAuditor token
    export PROXMOX_USER="portal@pve"
    READ_ONLY_ARGS=(--token-id 'portal@pve!portal' --read-only)
fi
export PROXMOX_TOKEN_VALUE="$(new_secret)" PROXMOX_PASSWORD=""
export PROXMOX_VERIFY_SSL="$DEMO_DIR/fakepve.crt"
export FAKEPVE_TOKEN_VALUE="$PROXMOX_TOKEN_VALUE" FAKEPVE_ROOT_PASSWORD="$(new_secret)"
export PORT="${PORT:-5000}"
export JOBS_URL="sqlite:///$DEMO_DIR/jobs.sqlite"
# The demo's stand-in apps answer at once: an unhealthy one (a -broken app after an update)
# is rolled back after 20 s rather than the catalog's 10 minutes.
export DEPLOY_HEALTH_TIMEOUT="${DEPLOY_HEALTH_TIMEOUT:-20}"
# The base template's image: the fake's stand-in for cloud.debian.org (loopback only).
IMAGES_PORT="${FAKEPVE_IMAGES_PORT:-8007}"
export BASE_IMAGE_URL="http://$FAKEPVE_ADDRESS:$IMAGES_PORT/debian-13-genericcloud-amd64.qcow2"
export BASE_IMAGE_SUMS_URL="http://$FAKEPVE_ADDRESS:$IMAGES_PORT/SHA512SUMS"

"$BIN/python" scripts/fakepve_demo.py demo/cluster.json --host "$FAKEPVE_ADDRESS" \
    --port "$FAKEPVE_PORT" --time-scale 0.2 --pki-dir "$DEMO_DIR" --images-port "$IMAGES_PORT" \
    "${READ_ONLY_ARGS[@]}" &
FAKEPVE_PID=$!
WORKER_PID=""
stop_all() {
    kill $WORKER_PID "$FAKEPVE_PID" 2>/dev/null || true
    wait $WORKER_PID "$FAKEPVE_PID" 2>/dev/null || true
}
trap stop_all EXIT

"$BIN/python" scripts/wait_for_port.py "$FAKEPVE_ADDRESS" "$FAKEPVE_PORT" 30

# The schema, the two accounts (passwords reset on every run) and the user's four guests:
# a stopped VM, a running VM with a serial port, a running and a stopped container.
"$BIN/python" scripts/demo_setup.py "$ADMIN_PASSWORD" "$USER_PASSWORD"
"$BIN/flask" --app wsgi worker &   # the job worker (app/jobs.py)
WORKER_PID=$!

cat <<BANNER

  Proxmox portal demo: http://127.0.0.1:$PORT
  Log in as: admin / $ADMIN_PASSWORD   (sees every guest)
         or: user / $USER_PASSWORD    (sees the 4 guests assigned to them)
  Fake Proxmox VE (fakepve): https://$FAKEPVE_ADDRESS:$FAKEPVE_PORT
  The job worker runs alongside. Ctrl-C stops all three.

BANNER
"$BIN/gunicorn" -c gunicorn.conf.py wsgi:app
