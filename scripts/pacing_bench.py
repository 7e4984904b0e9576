"""Run the whole suite against the bundled server paced to N requests/s; print the observed peak.

    python scripts/pacing_bench.py [--rate 5] [--profile default]

A full default run at 5/s takes about a minute per API version (about 300 requests). Reads the
figures from the run's summary.json; writes reports/pacing.json.
"""

from __future__ import annotations

import argparse
import json
import os
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
    summary_path = ROOT / "reports" / "pacing" / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    stats = [v["stats"] for v in summary.get("versions", [])]
    peak = max((s.get("peak_requests_per_second", 0) for s in stats), default=None)
    result = {
        "rate_limit_per_s": args.rate,
        "profile": args.profile,
        "exit_code": proc.returncode,
        "requests": sum(s.get("requests_sent", 0) for s in stats) if stats else None,
        "estimate_before_the_run": [v.get("estimate") for v in summary.get("versions", [])],
        "observed_peak_per_s": peak,
        "wall_s": round(wall, 1),
        "within_limit": peak is not None and peak <= args.rate,
    }
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "pacing.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if proc.returncode != 0:
        print(proc.stdout[-3000:], file=sys.stderr)
    return 0 if proc.returncode == 0 and result["within_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
