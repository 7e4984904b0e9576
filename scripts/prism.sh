#!/usr/bin/env bash
# Run the conformance suite against Stoplight Prism's mock of the contract document: a third-party
# target that the suite has never seen, to show what the suite reports about a server that follows
# the document's shapes but none of its semantics. See docs/prism.md for the findings.
#
#   scripts/prism.sh [extra pytest args...]
#   PRISM_API_VERSION=v4 scripts/prism.sh [extra pytest args...]
#
# Environment: PRISM_API_VERSION (v3 or v4, default v3: which document Prism mocks and the suite's
# --api-version), PRISM_SPEC (the document Prism mocks, default the version's published one in
# contracts/; the suite always judges against the published one), PRISM_VERSION (default 5.12.0,
# the last line that runs on Node.js 20), PRISM_PORT (default: a free port), PRISM_READY_TIMEOUT
# (seconds, default 60), SUITE_TIMEOUT (seconds for the whole pytest run, default 900),
# PRISM_REPORT_DIR (default reports/prism for v3, reports/prism-v4 for v4).
set -euo pipefail
cd "$(dirname "$0")/.."

PRISM_API_VERSION="${PRISM_API_VERSION:-v3}"
PRISM_VERSION="${PRISM_VERSION:-5.12.0}"
PRISM_DIR=".prism"
PRISM_READY_TIMEOUT="${PRISM_READY_TIMEOUT:-60}"
SUITE_TIMEOUT="${SUITE_TIMEOUT:-900}"
PYTHON="${PYTHON:-python}"
if [[ -x .venv/bin/python && -z "${VIRTUAL_ENV:-}" ]]; then
    PYTHON=.venv/bin/python
fi
# The version's document and update operation, from its profile (Prism mocks the paths without the
# servers' path: with one API version the suite uses --base-url as given).
if ! read -r document update_method probe_path < <("$PYTHON" - "$PRISM_API_VERSION" <<'PY'
import sys
from fpjs_conformance import profile

p = profile.load(sys.argv[1])
print(p.document_name, p.update_method, p.path_for(p.update_path, "1708102555327.NLOjmg"))
PY
); then
    echo "prism.sh: PRISM_API_VERSION must name a version with a profile in contracts/ (got '$PRISM_API_VERSION')" >&2
    exit 4
fi
SPEC="${PRISM_SPEC:-contracts/$document}"
EVENT_ID=1708102555327.NLOjmg # the documents' example id (any plain id would do: Prism keeps no events)
suffix=""
if [[ "$PRISM_API_VERSION" != v3 ]]; then suffix="-$PRISM_API_VERSION"; fi
REPORT_DIR="${PRISM_REPORT_DIR:-reports/prism$suffix}"

prism_bin="$PRISM_DIR/node_modules/.bin/prism"
if [[ ! -x "$prism_bin" ]] || ! "$prism_bin" --version 2>/dev/null | grep -qx "$PRISM_VERSION"; then
    echo "prism.sh: installing @stoplight/prism-cli@$PRISM_VERSION into $PRISM_DIR/" >&2
    mkdir -p "$PRISM_DIR"
    timeout 600 npm install --prefix "$PRISM_DIR" --no-audit --no-fund --loglevel=error \
        "@stoplight/prism-cli@$PRISM_VERSION" >&2
fi

port="${PRISM_PORT:-$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
base_url="http://127.0.0.1:$port"
mkdir -p "$REPORT_DIR"
rm -f "$REPORT_DIR/summary.json" # so a run that writes none is not reported with an earlier one's figures
prism_log="$REPORT_DIR/prism.log"

"$prism_bin" mock --host 127.0.0.1 --port "$port" "$SPEC" >"$prism_log" 2>&1 &
prism_pid=$!
stop_prism() {
    if kill -0 "$prism_pid" 2>/dev/null; then
        kill "$prism_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$prism_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$prism_pid" 2>/dev/null || true
    fi
}
trap stop_prism EXIT

# Ready when it answers any HTTP status on the update's method and path (Prism answers 401 without
# a key).
deadline=$((SECONDS + PRISM_READY_TIMEOUT))
until curl -s -o /dev/null --max-time 2 -X "$update_method" "$base_url$probe_path"; do
    if ! kill -0 "$prism_pid" 2>/dev/null; then
        echo "prism.sh: prism exited before it was ready; its log:" >&2
        cat "$prism_log" >&2
        exit 2
    fi
    if ((SECONDS >= deadline)); then
        echo "prism.sh: prism did not answer within ${PRISM_READY_TIMEOUT}s; its log:" >&2
        cat "$prism_log" >&2
        exit 2
    fi
    sleep 0.2
done
echo "prism.sh: prism $PRISM_VERSION mocking $SPEC ($update_method $probe_path) at $base_url (pid $prism_pid)"

# The suite against Prism. A throwaway key: Prism accepts any non-empty key.
cmd=("$PYTHON" -m pytest -p no:cacheprovider -q "--base-url=$base_url" "--api-version=$PRISM_API_VERSION"
    --api-key=prism-demo-key "--request-id=$EVENT_ID" "--report-dir=$REPORT_DIR" -rfEsp "$@")
echo "prism.sh: ${cmd[*]}"
status=0
timeout "$SUITE_TIMEOUT" "${cmd[@]}" || status=$?
echo "prism.sh: pytest exited with $status; reports in $REPORT_DIR/"
# What Prism answered, by status, from the suite's own tally (no secrets in it).
"$PYTHON" - "$REPORT_DIR/summary.json" <<'PY' || true
import json, sys

summary = json.load(open(sys.argv[1]))
for run in summary.get("versions", []):
    stats = run.get("stats", {})
    statuses = ", ".join(f"{code}: {n}" for code, n in stats.get("statuses", {}).items())
    print(
        f"prism.sh: [{run.get('version', '?')}] {stats.get('requests_sent', '?')} requests in "
        f"{stats.get('duration_s', '?')} s; statuses {statuses}; result {summary.get('result', '?')}"
    )
PY
exit "$status"
