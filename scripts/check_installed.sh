#!/usr/bin/env bash
# The suite as a user gets it: `pip install <repo>` into a fresh venv outside the repository, a project
# of their own (with its own `contracts` package), the bundled reference server started by hand as a
# stand-in for their server, then `pytest --pyargs fpjs_conformance --base-url=...` from that project.
# Checks: the user's own tests are unaffected (and the plugin stays inert there), the suite runs for
# both API versions, and the reports land in ./reports of the project. Run by .ci/run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q "$repo"
export PATH="$work/venv/bin:$PATH"
unset PYTHONPATH

project="$work/project"
mkdir -p "$project/contracts"
echo 'OWNER = "the project"' >"$project/contracts/__init__.py"
cat >"$project/test_own.py" <<'PY'
import contracts


def test_the_projects_own_contracts_package():
    assert contracts.OWNER == "the project"
PY
cd "$project"

# 1. The project's own tests: the installed plugin adds options, nothing else.
pytest -q -p no:cacheprovider test_own.py
if [[ -e reports ]]; then echo "check_installed: the plugin wrote reports in a run that did not use it" >&2; exit 1; fi
# A suite option without `--pyargs fpjs_conformance` would run only the project's own tests: a usage error (4).
status=0
pytest -q -p no:cacheprovider --api-version=v4 >/dev/null 2>&1 || status=$?
if [[ $status != 4 ]]; then echo "check_installed: a suite option without the suite's tests exited $status, not 4" >&2; exit 1; fi

# 2. A server of the project's own (here: the bundled reference server, started by hand).
key="user-key-$RANDOM$RANDOM$RANDOM" eu_key="user-eu-key-$RANDOM$RANDOM$RANDOM"
coproc SERVER { FPJS_REF_API_KEY="$key" FPJS_REF_WRONG_REGION_API_KEY="$eu_key" exec fpjs-refserver --port 0; }
server_pid=$SERVER_PID
read -t 30 -r ready <&"${SERVER[0]}"
url=${ready#READY }
echo "check_installed: the project's server at $url"

# 3. The suite, installed, against it, from the project's folder.
FPJS_API_KEY="$key" FPJS_WRONG_REGION_API_KEY="$eu_key" pytest -q -p no:cacheprovider -W error::pytest.PytestUnknownMarkWarning --pyargs fpjs_conformance \
    --base-url="$url" --api-version=v3,v4 --request-id=1708102555327.NLOjmg --hypothesis-profile=ci \
    --expired-request-id=1600000000000.expird --not-ready-request-id=1708102555999.notRdy
python - <<'PY'
import json
from pathlib import Path

summary = json.loads(Path("reports/summary.json").read_text())
assert summary["result"] == "passed", summary["result"]
assert [v["version"] for v in summary["versions"]] == ["v3", "v4"]
print("check_installed: reports in ./reports:", sorted(p.name for p in Path("reports").iterdir()))
PY

# 4. The plugin by name works too.
FPJS_API_KEY="$key" pytest -q -p no:cacheprovider -p fpjs_conformance --pyargs fpjs_conformance \
    --base-url="$url" --request-id=1708102555327.NLOjmg --hypothesis-profile=table -k UE-AUTH-01 --report-dir=by-name
test -f by-name/summary.json
echo "check_installed: passed"
