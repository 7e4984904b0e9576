#!/usr/bin/env python3
"""How fast and how frugal the suite is: prints a summary and writes reports/bench.json (docs/benchmark.md).

    python scripts/bench.py                  # everything
    python scripts/bench.py --runs 1 --skip-latency

Measures, on this machine, reading every figure from the runs' summary.json (never terminal text):
  - requests per version and wall time of each run profile (`table`, `default`, `ci`, `nightly`)
    against the bundled reference server, both versions in one run;
  - the default run of one version against a server that adds 40 ms to every response
    (the `latency-40ms` control);
  - the first failure: `-x` against local mutants, the wall time of the whole run and when the
    first violation came;
  - a bare `httpx.Client` keep-alive loop beside the default run: the suite's request rate as a share;
  - the self-test: `pytest tests -n 2` timed (`--skip-self-test`: the last one's), how many
    variants it judged in process and end to end, and from reports/mutation-score.json the median and
    worst wall time per variant and path, and how many mutants the coverage table alone kills.
Every subprocess has a timeout; keys are throwaway values generated here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from fpjs_conformance import profile as profiles  # noqa: E402
from fpjs_conformance.refserver import Settings  # noqa: E402
from fpjs_conformance.refserver.launch import ServerProcess  # noqa: E402

OUT = ROOT / "reports" / "bench.json"
MUTATION_SCORE = ROOT / "reports" / "mutation-score.json"
RUN_TIMEOUT = 1800  # seconds for any one pytest subprocess
PROFILES = ("table", "ci", "default", "nightly")
TARGETS = {"default": 400, "ci": 200, "nightly": 3000}  # requests per version (issue #12)
LATENCY_TARGET_S = 8  # a passing default run of one version 40 ms away (issue 27)
FIRST_FAILURE_TARGET_S = 3  # `-x` against a local mutant: the first failure within (issue 27)
# Mutants for the first failure, one per kind of finding: a refusal, a read-back, the state oracle.
FIRST_FAILURE_MUTANTS = ("auth-ignored", "update-not-stored", "stamps-modification-time")
IDS = Settings()


def machine() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FPJS_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**env, **extra}


def run_suite(args: list[str], env: dict[str, str] | None = None) -> dict:
    """`python -m pytest <args>` in ROOT, timed; the figures from its summary.json."""
    with tempfile.TemporaryDirectory(prefix="fpjs-bench-") as tmp:
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--report-dir={tmp}", *args]
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd,
                cwd=ROOT,
                env=env or child_env(),
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return {"args": args, "error": f"timed out after {RUN_TIMEOUT}s"}
        wall = round(time.perf_counter() - started, 2)
        summary_path = Path(tmp) / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    out = {"args": args, "exit_code": proc.returncode, "wall_s": wall, "result": summary.get("result")}
    out["first_violation_s"] = summary.get("first_violation_s")  # counted from the run's start (its configuration)
    if summary.get("first_violation_s") is not None and summary.get("duration_s") is not None:
        # From the process's start: what came before the run's start (Python, pytest, the plugin) added.
        out["first_violation_since_launch_s"] = round(wall - summary["duration_s"] + summary["first_violation_s"], 2)
    out["versions"] = {
        v["version"]: {"requests": v["stats"].get("requests_sent"), "coverage_cases": v.get("plan")}
        for v in summary.get("versions", [])
    }
    if proc.returncode != 0:
        out["tail"] = (proc.stdout + proc.stderr).strip().splitlines()[-10:]
    return out


def profiles_requests(runs: int) -> dict:
    """Each run profile against the bundled server, both versions in one run: requests and wall time."""
    out = {}
    for name in PROFILES:
        samples = [
            run_suite(
                [f"--hypothesis-profile={name}", "--api-version=v3,v4"],
                child_env(FPJS_HYPOTHESIS_DB=tempfile.mkdtemp()),
            )
            for _ in range(runs if name != "nightly" else 1)
        ]
        best = sorted(samples, key=lambda s: s["wall_s"])[len(samples) // 2]
        out[name] = {
            "requests_per_version": {v: f["requests"] for v, f in best["versions"].items()},
            "target_per_version": TARGETS.get(name),
            "wall_s": best["wall_s"],
            "wall_s_all": [s["wall_s"] for s in samples],
            "result": best["result"],
            "exit_code": best["exit_code"],
        }
        print(f"  {name}: {out[name]['requests_per_version']} requests, {out[name]['wall_s_all']} s", flush=True)
    return out


def against_variant(name: str, version: str, *args: str) -> dict:
    """The suite (`args`) against one version of a variant of the reference server (`tests/variants`)."""
    key = "bench" + secrets.token_hex(12)
    server_args = ["-m", "tests.variants", name, "--port", "0", "--api-key", key]
    with ServerProcess(server_args, env={"PYTHONPATH": str(ROOT)}) as server:
        base = server.url + profiles.load(version).server_path
        return run_suite([f"--base-url={base}", f"--request-id={IDS.request_id}", *args], child_env(FPJS_API_KEY=key))


def latency_run() -> dict:
    """The default run of one version against a server adding 40 ms to every response, with the default
    number of connections and with one (`--connections=1`: one request after another)."""
    out = {}
    for version in profiles.versions():
        result = against_variant("latency-40ms", version)
        serial = against_variant("latency-40ms", version, "--connections=1")
        out[version] = {
            "wall_s": result["wall_s"],
            "requests": result["versions"].get(version, {}).get("requests"),
            "exit_code": result["exit_code"],
            "target_s": LATENCY_TARGET_S,
            "one_connection_wall_s": serial["wall_s"],
            "one_connection_requests": serial["versions"].get(version, {}).get("requests"),
        }
        print(f"  latency-40ms [{version}]: {out[version]}", flush=True)
    return out


def first_failure_run() -> dict:
    """`-x` against local mutants: the wall time of the whole run (start-up, the failure, the restore, the
    reports) and when its first violation came; the worst is the figure."""
    runs = []
    for name in FIRST_FAILURE_MUTANTS:
        result = against_variant(name, "v3", "-x")
        runs.append(
            {
                "mutant": name,
                "wall_s": result["wall_s"],
                "first_violation_s": result["first_violation_s"],
                "first_violation_since_launch_s": result.get("first_violation_since_launch_s"),
                "requests": result["versions"].get("v3", {}).get("requests"),
                "exit_code": result["exit_code"],
            }
        )
        print(f"  first failure [{name}]: {runs[-1]}", flush=True)
    worst = max(runs, key=lambda r: r["wall_s"])
    return {
        "wall_s": worst["wall_s"],
        "mutant": worst["mutant"],
        "first_violation_since_launch_s": worst["first_violation_since_launch_s"],
        "target_s": FIRST_FAILURE_TARGET_S,
        "runs": runs,
    }


def bare_loop(seconds: float, version: str = "v3") -> float:
    """Requests per second of a plain keep-alive httpx loop (valid updates, a read-back, no key, a bad body,
    an unknown id), built by the suite's own transport so that the loop speaks the version's dialect."""
    from fpjs_conformance.keys import Secrets
    from fpjs_conformance.model import NO_KEY, READ, VALID, Body, Credentials, Request
    from fpjs_conformance.table import probe_body
    from fpjs_conformance.transport import Transport

    key = "bench" + secrets.token_hex(12)
    p = profiles.load(version)
    with ServerProcess(["-m", "fpjs_conformance.refserver", "--port", "0"], env={"FPJS_REF_API_KEY": key}) as server:
        transport = Transport(p, server.url + p.server_path, Secrets(key))
        valid = Credentials.of(**{p.key_places[0].name: VALID})
        body = Body.of(probe_body(p))
        requests = [
            Request(IDS.request_id, valid, body),
            Request(IDS.request_id, valid, op=READ),
            Request(IDS.request_id, NO_KEY, body),
            Request(IDS.request_id, valid, Body.bytes_(b"{")),
            Request("1000000000000.unknwn", valid, body),
        ]
        mix = [transport.codec.encode(r) for r in requests]
        transport.close()
        with httpx.Client(timeout=10) as client:
            for b in mix * 10:
                client.request(b.method, b.url, headers=b.headers, content=b.body)
            sent, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                for b in mix:
                    client.request(b.method, b.url, headers=b.headers, content=b.body)
                    sent += 1
            return round(sent / (time.perf_counter() - started), 1)


SELF_TEST = ("tests", "-n", "2")


def self_test_run() -> dict:
    """`pytest tests -n 2`, timed: the project's own tests as a developer runs them (README's second command;
    the variants among them write reports/mutation-score.json, which `catalogue` reads)."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SELF_TEST]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return {"command": f"pytest {' '.join(SELF_TEST)}", "error": f"timed out after {RUN_TIMEOUT}s"}
    out = {
        "command": f"pytest {' '.join(SELF_TEST)}",
        "wall_s": round(time.perf_counter() - started, 1),
        "exit_code": proc.returncode,
    }
    if proc.returncode != 0:
        out["tail"] = (proc.stdout + proc.stderr).strip().splitlines()[-10:]
    print(f"  self-test: {out}", flush=True)
    return out


def _times(rows: list[dict]) -> dict:
    worst = max(rows, key=lambda r: r["seconds"])
    return {
        "variants": len(rows),
        "median_s": round(statistics.median(r["seconds"] for r in rows), 2),
        "worst_s": worst["seconds"],
        "worst_variant": worst["name"],
    }


def catalogue(path: Path = MUTATION_SCORE) -> dict:
    """Per-variant wall time (per kind, and per path for the mutants), how many variants each path judged,
    the session the score comes from and the table-only kill count, from the self-test's score."""
    if not path.is_file():
        return {"available": False, "note": "run `pytest tests/test_variants.py -n 2` first"}
    data = json.loads(path.read_text())
    runs = {}
    for r in data["variants"]:  # one record per version; the run covers them all
        runs.setdefault(r["name"], r)
    by_kind: dict[str, list] = {}
    for r in runs.values():
        by_kind.setdefault(r["kind"], []).append(r)
    out = {
        "available": True,
        "source_modified": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(path.stat().st_mtime)),
        "session": data.get("session"),  # the pytest session that wrote the score: its arguments and wall time
        "judged": data.get("paths"),  # variants judged in-process and end-to-end
    }
    for kind, rows in by_kind.items():
        out[kind] = _times(rows)
    mutants_by_path: dict[str, list] = {}
    for r in by_kind.get("mutant", []):
        mutants_by_path.setdefault(r.get("path", "end-to-end"), []).append(r)
    out["mutant_by_path"] = {path: _times(rows) for path, rows in sorted(mutants_by_path.items())}
    mutants = [r for r in data["variants"] if r["kind"] == "mutant"]
    table = [r for r in mutants if r.get("profile") == "table"]
    out["table_only"] = {
        "mutant_verdicts": len(table),
        "killed": sum(r["verdict"] == "killed" for r in table),
        "of_all_mutant_verdicts": len(mutants),
    }
    out["score"] = data.get("versions")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="runs per profile; the median is reported (default 3)")
    p.add_argument("--loop-seconds", type=float, default=3.0)
    p.add_argument("--skip-latency", action="store_true", help="skip the 40 ms latency runs")
    p.add_argument(
        "--skip-self-test", action="store_true", help="do not run the self-test: report the last mutation score's"
    )
    p.add_argument("--skip-first-failure", action="store_true", help="skip the -x runs against mutants")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    report: dict = {"generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine()}
    print("run profiles against the bundled server (both versions in one run):", flush=True)
    report["profiles"] = profiles_requests(max(1, args.runs))
    if not args.skip_latency:
        print("default run against a server adding 40 ms per response:", flush=True)
        report["latency_40ms"] = latency_run()
    if not args.skip_first_failure:
        print("-x against local mutants: the first failure:", flush=True)
        report["first_failure"] = first_failure_run()
    bare = bare_loop(args.loop_seconds)
    default = report["profiles"]["default"]
    suite_rate = sum(default["requests_per_version"].values()) / default["wall_s"]
    report["suite_vs_bare"] = {
        "suite_requests_per_s_whole_run": round(suite_rate, 1),
        "bare_requests_per_s": bare,
        "note": "the suite's rate over its whole wall time (start-up, schemathesis import, both versions' tables "
        "and random phase, reports) against a bare keep-alive httpx loop",
    }
    run = None
    if not args.skip_self_test:
        print(f"the self-test (pytest {' '.join(SELF_TEST)}):", flush=True)
        run = self_test_run()
    report["self_test"] = {"run": run, **catalogue()}
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
