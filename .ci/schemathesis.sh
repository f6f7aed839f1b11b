#!/usr/bin/env bash
# Schemathesis against the real server: every default check, deterministic, >= 1,000 requests.
#
#   .ci/schemathesis.sh [path/to/consular-desk] [postgres://admin-url]
#
# Default binary: target/debug/consular-desk. With a PostgreSQL URL the server runs on a fresh
# database created there (and dropped afterwards) instead of SQLite.
#
# Starts the binary on a fresh SQLite database and a free port, creates an admin (plus a clerk
# that password resets target, see .ci/schemathesis.toml), registers and signs in an applicant,
# signs in the admin, then runs schemathesis (settings in .ci/schemathesis.toml) with the
# applicant's token on `public_token` operations and the admin's on `staff_token` ones.
# Fails on any schemathesis failure, if either token stopped working during the run, or if
# fewer than MIN_REQUESTS (1000) requests were made. The server is always stopped.
#
# Left in target/schemathesis/: the log, JUnit and NDJSON reports, openapi.json, server.log.
# Needs python3 (with venv) and PyPI the first time; the venv is kept in target/.
# SCHEMATHESIS_CONFIG=path runs with another config file (for experiments).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
MIN_REQUESTS=${MIN_REQUESTS:-1000}
bin=${1:-target/debug/consular-desk}
pg_admin=${2:-}
pg_db=st_$(date +%s)_$$
[[ $bin == /* ]] || bin="$root/$bin"
[[ -x $bin ]] || { echo "schemathesis.sh: no executable at $bin" >&2; exit 2; }

# --- schemathesis, pinned with everything it pulls in, in a venv kept under target/ ----------
# Hypothesis and jsonschema_rs decide what is generated: pinning them keeps runs identical.
requirements="schemathesis==$SCHEMATHESIS_VERSION
anyio==4.16.0
certifi==2026.10.19.post1
charset-normalizer==3.5.3
click==8.5.1
graphql-core==3.3.2
harfile==0.6.0
hypothesis==6.170.17
hypothesis-graphql==0.13.5
idna==3.20
iniconfig==2.3.1
jsonschema_rs==0.60.3
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
packaging==26.4
pluggy==1.7.0
Pygments==2.21.0
pyrate-limiter==4.5.1
pytest==9.2.0
PyYAML==6.0.4
requests==2.34.2
rich==15.0.0
sortedcontainers==2.4.0
typing_extensions==4.16.0
urllib3==2.8.0
Werkzeug==3.1.9"
venv=$root/target/schemathesis-venv
if [[ "$(cat "$venv/requirements.txt" 2>/dev/null)" != "$requirements" || ! -x $venv/bin/st ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  printf '%s\n' "$requirements" >"$venv/requirements.in"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install --quiet -r "$venv/requirements.in"
  printf '%s' "$requirements" >"$venv/requirements.txt"
fi
py=$venv/bin/python
"$venv/bin/st" --version

# --- the server, on a database and port of its own -------------------------------------------
work=$(mktemp -d)
out=$root/target/schemathesis
rm -rf "$out" && mkdir -p "$out"
server_pid=
cleanup() {
  local rc=$?
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  if [[ -n $pg_admin ]]; then
    psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [[ -f $work/server.log ]] && cp "$work/server.log" "$out/server.log"
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# http METHOD URL [JSON_BODY] [TOKEN] [FIELD]: prints FIELD of the JSON answer, or the status
# when FIELD is empty. With a FIELD, an answer other than 2xx stops the script.
http() {
  "$py" - "$@" <<'PY'
import json, sys, urllib.error, urllib.request
method, url, body, token, field = (sys.argv[1:] + [""] * 5)[:5]
headers = {"Content-Type": "application/json"} if body else {}
if token:
    headers["Authorization"] = f"Bearer {token}"
request = urllib.request.Request(url, data=body.encode() or None, headers=headers, method=method)
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        status, answer = response.status, response.read()
except urllib.error.HTTPError as error:
    status, answer = error.code, error.read()
except OSError:
    status, answer = 0, b""
if not field:
    print(status)
elif 200 <= status < 300:
    print(json.loads(answer)[field])
else:
    sys.exit(f"schemathesis.sh: {method} {url} answered {status}: {answer.decode(errors='replace')}")
PY
}

port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

if [[ -n $pg_admin ]]; then
  psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
  export DATABASE_URL="${pg_admin%/*}/$pg_db"
else
  export DATABASE_URL="sqlite://$work/db.sqlite"
fi
export CONSULAR_DESK_BIND="127.0.0.1:$port"
# Throttles out of the way: every request comes from 127.0.0.1, and schemathesis signs in,
# registers and books far more often than people do. (Unknown variables are ignored.)
export CONSULAR_DESK_LOGIN_MAX_FAILURES=1000
export CONSULAR_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS=100000
export CONSULAR_DESK_LOGIN_ACCOUNT_CEILING=1000000
export CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR=1000000
export CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR_PER_ADDRESS=1000000
export CONSULAR_DESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS=1000000
export CONSULAR_DESK_TRACKING_LOOKUPS_PER_ADDRESS=1000000
export CONSULAR_DESK_TRACKING_FAILURES_PER_NUMBER=1000000
export CONSULAR_DESK_RECEIPT_CHECKS_PER_ADDRESS=1000000
export CONSULAR_DESK_REGISTRY_PER_ADDRESS=1000000
export CONSULAR_DESK_REGISTRY_PER_EMAIL=1000000
export CONSULAR_DESK_FEEDBACK_PER_HOUR_PER_ADDRESS=1000000
# Its applicants book without opening the confirmation link; their messages go to a folder.
export CONSULAR_DESK_REQUIRE_CONFIRMED_EMAIL=false
export CONSULAR_DESK_MAIL_DIR="$work/mail"
export CONSULAR_DESK_LOG_FORMAT=json
# /metrics answers behind this token (without one it is not served at all); the config hands
# it to the operation whose `security` names metrics_token.
CD_METRICS_TOKEN="schemathesis-metrics-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export CD_METRICS_TOKEN CONSULAR_DESK_METRICS_TOKEN="$CD_METRICS_TOKEN"
export RUST_LOG=${RUST_LOG:-info}

"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!

for attempt in $(seq 1 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis.sh: the server exited before it was ready:" >&2
    tail -n 30 "$work/server.log" >&2
    exit 1
  fi
  [[ $(http GET "$base/readyz") == 200 ]] && break
  if (( attempt == 300 )); then
    echo "schemathesis.sh: /readyz did not answer 200 within 30 s" >&2
    tail -n 30 "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "server $bin ready on $base (database $DATABASE_URL)"
"$py" -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())' \
  "$base/openapi.json" >"$out/openapi.json"

# --- accounts and tokens ---------------------------------------------------------------------
admin_password='a long passphrase for the schemathesis admin'
echo "$admin_password" | "$bin" create-staff --username admin --role admin --password-stdin >/dev/null
# The clerk whose password POST /api/v1/admin/staff/{username}/password resets (see the toml).
CD_RESET_TARGET=st-reset-target
echo 'another long passphrase' | "$bin" create-staff --username "$CD_RESET_TARGET" --role clerk --password-stdin >/dev/null

status=$(http POST "$base/api/v1/auth/register" \
  '{"email": "schemathesis@example.org", "password": "a long applicant passphrase", "full_name": "Schema Thesis"}')
[[ $status == 2?? ]] || { echo "schemathesis.sh: POST /api/v1/auth/register answered $status" >&2; exit 1; }
CD_PUBLIC_TOKEN=$(http POST "$base/api/v1/auth/login" \
  '{"email": "schemathesis@example.org", "password": "a long applicant passphrase"}' "" token)
CD_STAFF_TOKEN=$(http POST "$base/api/v1/staff/auth/login" \
  "{\"username\": \"admin\", \"password\": \"$admin_password\"}" "" token)
export CD_PUBLIC_TOKEN CD_STAFF_TOKEN CD_RESET_TARGET

# --- schemathesis ----------------------------------------------------------------------------
# Run from the work directory so nothing (.hypothesis/, .schemathesis/) lands in the checkout.
cmd=("$venv/bin/st" --config-file "${SCHEMATHESIS_CONFIG:-$root/.ci/schemathesis.toml}" run "$base/openapi.json"
     --report junit,ndjson --report-dir "$out")
echo "+ ${cmd[*]}"
set +e
(cd "$work" && NO_COLOR=1 COLUMNS=160 "${cmd[@]}") 2>&1 | tee "$out/schemathesis.log"
st_status=${PIPESTATUS[0]}
set -e

# Requests sent during the test phases, read from the NDJSON report (one per test case).
requests=$("$py" - "$out" <<'PY'
import glob, json, sys
total = 0
for path in glob.glob(f"{sys.argv[1]}/*.ndjson"):
    with open(path) as events:
        for line in events:
            finished = json.loads(line).get("ScenarioFinished")
            if finished:
                total += len((finished.get("recorder") or {}).get("interactions") or {})
print(total)
PY
)
echo "schemathesis: $requests requests sent (at least $MIN_REQUESTS wanted), exit status $st_status"

# Both tokens must still work at the end: had the run ended one (a password reset, a role
# change, ...), every later request with it got a 401, which the checks accept, so what came
# after was not tested.
failed=
for who in applicant admin; do
  if [[ $who == applicant ]]; then path=/api/v1/me token=$CD_PUBLIC_TOKEN; else path=/api/v1/staff/me token=$CD_STAFF_TOKEN; fi
  status=$(http GET "$base$path" "" "$token")
  if [[ $status != 200 ]]; then
    echo "FAIL: after the run the $who token gets $status from GET $path: the run ended its own session" >&2
    failed=1
  fi
done
if (( st_status != 0 )); then
  echo "FAIL: schemathesis failed (log: $out/schemathesis.log, server log: $out/server.log)" >&2
  failed=1
fi
if (( requests < MIN_REQUESTS )); then
  echo "FAIL: only $requests requests, fewer than $MIN_REQUESTS" >&2
  failed=1
fi
[[ -z $failed ]] || exit 1
echo "schemathesis: passed"
