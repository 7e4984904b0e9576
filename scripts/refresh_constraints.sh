#!/usr/bin/env bash
# Refresh constraints.txt, the lock the Action (action.yml) and the workflows install with: every
# package `pip install ".[dev]"` brings, pinned, so that a nightly changes behaviour only through a
# commit of this file, never through an upgrade on the index. Run it, run the project's tests
# (`pytest tests -n 2`), and commit the new file with what the tests found.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install -q --disable-pip-version-check ".[dev]"
{
  echo "# The lock of the suite's dependencies (runtime and dev), for the Action and the workflows:"
  echo "#   pip install -c constraints.txt .   (or \".[dev]\")"
  echo "# Refresh with scripts/refresh_constraints.sh (README, \"Use it in your repository\")."
  "$scratch/venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check |
    grep -v -i '^fpjs-update-event-conformance' | LC_ALL=C sort -f
} >constraints.txt
echo "constraints.txt: $(grep -cv '^#' constraints.txt) packages pinned"
