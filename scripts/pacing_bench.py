"""Run the whole suite against the bundled server paced to N requests/s; print the observed peak.

    python scripts/pacing_bench.py [--rate 5] [--profile default]

A full default run at 5/s takes a few minutes (about 1,200 requests). Writes reports/pacing.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--profile", default="default")
    args = parser.parse_args()
    env = {**os.environ, "FPJS_HYPOTHESIS_PROFILE": args.profile}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--rate-limit={args.rate:g}/s",
        f"--report-dir={ROOT / 'reports' / 'pacing'}",
    ]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - started
    found = re.search(r"fpjs: (\d+) requests, peak (\d+)/s", proc.stdout)
    result = {
        "rate_limit_per_s": args.rate,
        "profile": args.profile,
        "exit_code": proc.returncode,
        "requests": int(found.group(1)) if found else None,
        "observed_peak_per_s": int(found.group(2)) if found else None,
        "wall_s": round(wall, 1),
        "within_limit": bool(found) and int(found.group(2)) <= args.rate,
    }
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "pacing.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if proc.returncode != 0:
        print(proc.stdout[-3000:], file=sys.stderr)
    return 0 if proc.returncode == 0 and result["within_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
