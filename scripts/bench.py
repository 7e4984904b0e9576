#!/usr/bin/env python3
"""How fast the suite is: prints a summary and writes reports/bench.json (see docs/benchmark.md).

    python scripts/bench.py                 # everything, 3 runs of the default suite
    python scripts/bench.py --runs 1 --no-xdist
    python scripts/bench.py --profile       # also sample the default run with py-spy (if installed)

Measures, on this machine:
  - the default run (`python -m pytest -q -p no:cacheprovider`, the suite against the bundled
    reference server): wall time, requests sent, and the request rate of its test phase;
  - a bare `httpx.Client` keep-alive loop sending a similar mix (valid updates, no key, bad body,
    unknown id) to a reference server of its own, and the suite's rate as a share of it;
  - the reference server's own throughput on valid updates only;
  - the mutation catalogue's time to the first failure, from reports/mutation-score.json;
  - the speed-up of pytest-xdist `-n 2` over one process.
Every subprocess has a timeout; keys are throwaway values generated here.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from refserver.app import Settings  # noqa: E402
from refserver.launch import ServerProcess  # noqa: E402

IDS = Settings()
UNKNOWN_ID = "1000000000000.unknwn"
OUT = ROOT / "reports" / "bench.json"
MUTATION_SCORE = ROOT / "reports" / "mutation-score.json"
RUN_TIMEOUT = 900  # seconds for any one pytest subprocess
FPJS_LINE = re.compile(r"fpjs: (\d+) requests, peak (\d+)/s")
DURATION_LINE = re.compile(r"=*\s*(?:.*?) in ([\d.]+)s(?: \([\d:]+\))?\s*=*\s*$")


# -- helpers ------------------------------------------------------------------------------------
def machine() -> dict:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def env_for_children() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    for name in ("FPJS_BASE_URL", "FPJS_API_KEY", "FPJS_REQUEST_ID", "FPJS_HYPOTHESIS_PROFILE"):
        env.pop(name, None)  # the default run: bundled server, default profile
    return env


def run_pytest(args: list[str], prefix: list[str] | None = None) -> dict:
    """`python -m pytest <args>` in ROOT, timed; the fpjs line and pytest's own duration parsed."""
    cmd = [*(prefix or []), sys.executable, "-m", "pytest", *args]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            cwd=ROOT,
            env=env_for_children(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return {"command": _shown(cmd), "error": f"timed out after {RUN_TIMEOUT}s"}
    wall = time.perf_counter() - started
    out = proc.stdout + proc.stderr
    result: dict = {"command": _shown(cmd), "exit_code": proc.returncode, "wall_s": round(wall, 3)}
    lines = out.strip().splitlines()
    summary = next((line for line in reversed(lines) if DURATION_LINE.search(line)), "")
    if summary:
        result["pytest_summary"] = summary.strip("= ")
        result["pytest_duration_s"] = float(DURATION_LINE.search(summary).group(1))
    fpjs = FPJS_LINE.search(out)
    if fpjs:
        result["requests"] = int(fpjs.group(1))
        result["peak_per_s"] = int(fpjs.group(2))
    if proc.returncode != 0:
        result["tail"] = lines[-15:]
    return result


def _shown(cmd: list[str]) -> str:
    return " ".join("python" if part == sys.executable else part for part in cmd)


def start_server() -> tuple[ServerProcess, str, str]:
    key, wrong = "bench" + secrets.token_hex(12), "bencheu" + secrets.token_hex(12)
    env = {
        "FPJS_REF_API_KEY": key,
        "FPJS_REF_WRONG_REGION_API_KEY": wrong,
        "PYTHONPATH": env_for_children()["PYTHONPATH"],
    }
    return ServerProcess(["-m", "refserver", "--port", "0"], env=env).start(), key, wrong


# -- measurements -------------------------------------------------------------------------------
def default_run(runs: int, loop_seconds: float) -> dict:
    """The README's command 1, `runs` times, each right after a bare loop of the same length.

    The machine may be shared: pairing each suite run with a bare loop measured just before it
    compares the two under the same load; the median pair is the figure.
    """
    samples = []
    for i in range(runs):
        bare = bare_loop(valid_only=False, seconds=loop_seconds)
        with tempfile.TemporaryDirectory(prefix="fpjs-bench-") as tmp:
            result = run_pytest(["-q", "-p", "no:cacheprovider", f"--report-dir={tmp}"])
            summary = Path(tmp) / "summary.json"
            if summary.is_file():
                stats = json.loads(summary.read_text()).get("stats", {})
                if "duration_s" in stats:
                    # from the target's creation (first test) to its teardown: the test phase
                    result["test_phase_s"] = stats["duration_s"]
                result.setdefault("requests", stats.get("requests_sent"))
        phase = result.get("test_phase_s") or result.get("pytest_duration_s")
        if result.get("requests") and phase:
            result["requests_per_s"] = round(result["requests"] / phase, 1)
            result["bare_requests_per_s"] = bare["requests_per_s"]
            result["ratio_to_bare"] = round(result["requests_per_s"] / bare["requests_per_s"], 3)
        print(
            f"  run {i + 1}/{runs}: bare loop {bare['requests_per_s']} req/s; suite {result.get('wall_s')} s wall, "
            f"{result.get('requests')} requests in a test phase of {phase} s = {result.get('requests_per_s')} req/s, "
            f"ratio {result.get('ratio_to_bare')} (exit {result.get('exit_code')})",
            flush=True,
        )
        samples.append(result)
    ok = [s for s in samples if s.get("ratio_to_bare")]
    out: dict = {"command": "python -m pytest -q -p no:cacheprovider", "runs": samples}
    if ok:
        median = sorted(ok, key=lambda s: s["ratio_to_bare"])[len(ok) // 2]
        out.update(
            median_run=samples.index(median) + 1,
            wall_s=median["wall_s"],
            requests=median["requests"],
            test_phase_s=median.get("test_phase_s") or median.get("pytest_duration_s"),
            requests_per_s=median["requests_per_s"],
            bare_requests_per_s=median["bare_requests_per_s"],
            ratio_to_bare=median["ratio_to_bare"],
            wall_s_all=[s["wall_s"] for s in samples],
            ratio_all=[s.get("ratio_to_bare") for s in samples],
        )
    return out


def _requests_mix(key: str) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    """(method, path, headers, body) in about the proportions of the suite's answers (half 200s)."""
    live, json_ct = f"/events/{IDS.request_id}", {"Content-Type": "application/json"}
    auth = {"Auth-API-Key": key, **json_ct}
    return [
        ("PUT", live, auth, b'{"linkedId": "bench-linked-id"}'),  # valid
        ("PUT", live, auth, json.dumps({"tag": {"n": 1, "a": ["x", {"y": None}]}}).encode()),  # valid
        ("PUT", live, auth, b'{"suspect": false}'),  # valid
        ("GET", live, {"Auth-API-Key": key}, None),  # read back
        ("PUT", live, json_ct, b'{"linkedId": "x"}'),  # no key -> 403
        ("PUT", live, auth, b'{"linkedId": '),  # bad body -> 400
        ("PUT", live, auth, b'{"tag": null}'),  # wrong type -> 400
        ("PUT", f"/events/{UNKNOWN_ID}", auth, b'{"linkedId": "x"}'),  # unknown id -> 404
    ]


def bare_loop(valid_only: bool, seconds: float, max_requests: int = 200_000) -> dict:
    """A plain keep-alive httpx loop against a fresh reference server: the ceiling for one client."""
    server, key, _ = start_server()
    try:
        mix = _requests_mix(key)
        if valid_only:
            mix = mix[:3]
        statuses: Counter = Counter()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for method, path, headers, body in mix * 20:  # warm-up: connection, server code paths
                client.request(method, path, headers=headers, content=body)
            sent, started = 0, time.perf_counter()
            deadline = started + seconds
            while sent < max_requests and time.perf_counter() < deadline:
                for method, path, headers, body in mix:
                    statuses[client.request(method, path, headers=headers, content=body).status_code] += 1
                    sent += 1
            elapsed = time.perf_counter() - started
    finally:
        server.stop()
    return {
        "mix": "valid PUTs only"
        if valid_only
        else "valid PUTs, GET read-back, no key, bad body, wrong type, unknown id",
        "requests": sent,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(sent / elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def mutation_catalogue(path: Path = MUTATION_SCORE) -> dict:
    if not path.is_file():
        return {"available": False, "note": "not available: run pytest tests -n 2 first"}
    data = json.loads(path.read_text())
    variants = data if isinstance(data, list) else data.get("variants", [])
    timed = [v for v in variants if isinstance(v.get("seconds"), int | float)]
    mutants = [v for v in timed if v.get("kind") == "mutant"]
    controls = [v for v in timed if v.get("kind") == "control"]
    # A mutant's run that found a failure (pytest exit 1) stopped at it: its seconds are the time to
    # the first failure. Survivors ran in full; errors (exit 2+) are the harness's, not a finding.
    failed = [v for v in mutants if v.get("exit_code") == 1]
    if not failed:
        return {"available": False, "note": f"{path.name} lists no mutant run that failed"}
    seconds = [v["seconds"] for v in failed]
    worst = max(failed, key=lambda v: v["seconds"])
    return {
        "available": True,
        "source": str(path),
        "source_modified": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(path.stat().st_mtime)),
        "complete_catalogue": data.get("complete_catalogue") if isinstance(data, dict) else None,
        "mutants": len(mutants),
        "verdicts": dict(Counter(v.get("verdict") for v in mutants).most_common()),
        "mutants_failed": len(failed),
        "median_s_to_first_failure": round(statistics.median(seconds), 2),
        "worst_s_to_first_failure": worst["seconds"],
        "worst_variant": worst.get("name"),
        "controls": len(controls),
        "median_s_control_full_run": round(statistics.median(v["seconds"] for v in controls), 2) if controls else None,
        "note": "seconds per variant from the catalogue run; over the mutants whose run failed (exit 1), which "
        "stops at the first failure (-x)",
    }


def xdist(include_contracts: bool, runs: int) -> dict:
    """One process against `-n 2`, alternating, `runs` pairs each; the median speed-up is the figure."""
    if importlib.util.find_spec("xdist") is None:
        return {"available": False, "note": "pytest-xdist is not installed"}
    out: dict = {"available": True}
    units = [p for p in ("tests/test_strategies.py", "tests/test_oracle.py") if (ROOT / p).is_file()]
    targets: list[tuple[str, str, list[str]]] = []
    if units:
        targets.append(("units", " ".join(units), units))
    if include_contracts:
        targets.append(("contract_suite", "the contract suite (one reference server per xdist worker)", []))
    for name, label, args in targets:
        pairs = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="fpjs-bench-") as a, tempfile.TemporaryDirectory() as b:
                one = run_pytest(["-q", "-p", "no:cacheprovider", f"--report-dir={a}", *args])
                two = run_pytest(["-q", "-p", "no:cacheprovider", "-n", "2", f"--report-dir={b}", *args])
                two["reports_written"] = sorted(p.name for p in Path(b).iterdir())
            pairs.append(_speedup(label, one, two))
        ok = [p for p in pairs if p["speedup"] is not None]
        out[name] = {
            **(sorted(ok, key=lambda p: p["speedup"])[len(ok) // 2] if ok else pairs[-1]),
            "speedup_all": [p["speedup"] for p in pairs],
        }
        print(f"  xdist, {label}: {out[name]['speedup_all']}", flush=True)
    return out


KEPT = ("command", "wall_s", "pytest_duration_s", "pytest_summary", "requests", "exit_code", "reports_written")


def _speedup(target: str, one: dict, two: dict) -> dict:
    ok = one.get("exit_code") == 0 and two.get("exit_code") == 0
    return {
        "target": target,
        "one_process": {k: one.get(k) for k in KEPT if k in one},
        "n2": {k: two.get(k) for k in KEPT if k in two},
        "speedup": round(one["wall_s"] / two["wall_s"], 2) if ok else None,
    }


# -- profiling (optional) -----------------------------------------------------------------------
# Each sample is charged to the innermost frame that matches a rule, so e.g. jsonschema called
# from schemathesis counts as jsonschema.
PROFILE_RULES = [
    (
        "HTTP: httpx/httpcore/h11 and waiting for the server",
        r"\((httpx|httpcore|h11|anyio)/|\((socket|ssl|selectors)\.py",
    ),
    ("jsonschema", r"\((jsonschema|referencing|jsonschema_specifications|rpds)/"),
    ("YAML parsing", r"\(yaml/"),
    ("schemathesis", r"\(schemathesis/"),
    ("Hypothesis (engine and generation)", r"\(hypothesis/"),
    ("imports", r"<frozen importlib|\(_pytest/assertion/rewrite\.py"),
    ("contracts/transport.py (incl. time.sleep back-off)", r"\(transport\.py:"),
    ("contracts/checks.py", r"\(checks\.py:"),
    ("contracts/oracle.py", r"\(oracle\.py:"),
    ("contracts/spec.py", r"\(spec\.py:"),
    ("pytest and pluggy", r"\((_pytest|pluggy|pytest)/"),
]
PROFILE_INCLUSIVE = {
    "Transport.send (HTTP, pacing, 409 back-off)": r"Transport\.send \(",
    "time.sleep in Transport.send (409 back-off)": None,  # filled below from the innermost frame
    "Hypothesis drawing test arguments": r"prep_args_kwargs_from_strategies|DataObject\.draw",
    "Hypothesis generate_mutations_from (re-runs the test)": r"generate_mutations_from",
    "strategies.schemathesis_bodies": r"schemathesis_bodies \(",
    "Target.judge (checks)": r"Target\.judge \(",
    "oracle.expect": r"expect \(oracle\.py",
    "spec.document (YAML)": r"document \(spec\.py",
}


def profile_default_run() -> dict:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).is_file():
        return {"available": False, "note": "py-spy not installed (pip install py-spy; for profiling only)"}
    with tempfile.TemporaryDirectory(prefix="fpjs-bench-") as tmp:
        folded = Path(tmp) / "suite.folded"
        prefix = [py_spy, "record", "--idle", "--rate", "250", "--format", "raw", "--output", str(folded), "--"]
        run = run_pytest(["-q", "-p", "no:cacheprovider", f"--report-dir={tmp}"], prefix=prefix)
        if not folded.is_file():
            return {"available": False, "note": f"py-spy produced nothing: {run.get('tail') or run.get('error')}"}
        result = classify(folded.read_text())
    result["run"] = {k: run.get(k) for k in ("wall_s", "requests", "pytest_summary")}
    return result


def _phase_bucket(stack: str, frames: list[str]) -> str | None:
    """Where a sample of the test phase went (None: not in the test phase)."""
    if "pytest_runtestloop" not in stack or "build_target (" in stack:
        return None  # collection, start-up, reports; the reference server's start and warm-up
    if "Transport.send (" in stack:
        # py-spy shows no native frames: a sample whose innermost frame is send itself is in time.sleep
        return "409 back-off sleep" if frames[-1].startswith("Transport.send (") else "HTTP (Transport.send)"
    if "_find_and_load (" in stack or "_operation (" in stack:
        return "imports and schema loading inside tests (one-off)"
    if re.search(r"prep_args_kwargs_from_strategies|DataObject\.draw", stack):
        return "Hypothesis: drawing test arguments (strategies, schemathesis)"
    if "Target.judge (" in stack or "(checks.py:" in stack:
        return "checks"
    if "(oracle.py:" in stack:
        return "oracle"
    if "generate_mutations_from" in stack or "(hypothesis/" in stack:
        return "Hypothesis: engine (mutations, bookkeeping)"
    if re.search(r"test_\w+ \(test_\w+\.py", stack):
        return "test bodies, other"
    return "pytest between tests"


def classify(folded: str) -> dict:
    by_category: Counter = Counter()
    inclusive: Counter = Counter()
    phase: Counter = Counter()
    total = 0
    rules = [(name, re.compile(rx)) for name, rx in PROFILE_RULES]
    incl = [(name, re.compile(rx)) for name, rx in PROFILE_INCLUSIVE.items() if rx]
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or "_run_module_as_main" not in stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in reversed(frames):
            hit = next((name for name, rx in rules if rx.search(frame)), None)
            if hit:
                by_category[hit] += n
                break
        else:
            by_category["other"] += n
        if frames[-1].startswith("Transport.send ("):
            inclusive["time.sleep in Transport.send (409 back-off)"] += n
        for name, rx in incl:
            if rx.search(stack):
                inclusive[name] += n
        bucket = _phase_bucket(stack, frames)
        if bucket:
            phase[bucket] += n

    def share(c: Counter, of: int) -> dict:
        return {k: round(100 * v / of, 1) for k, v in c.most_common()} if of else {}

    return {
        "available": True,
        "samples": total,
        "self_percent": share(by_category, total),
        "inclusive_percent": share(inclusive, total),
        "test_phase_samples": sum(phase.values()),
        "test_phase_percent": share(phase, sum(phase.values())),
        "note": "py-spy --idle at 250 Hz; self_percent charges each sample to its innermost matching frame; "
        "test_phase_percent covers the tests only (no start-up, collection, server start or reports)",
    }


# -- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="default-suite runs; the median is reported (default 3)")
    p.add_argument("--loop-seconds", type=float, default=2.0, help="duration of each bare httpx loop (default 2)")
    p.add_argument("--no-xdist", action="store_true", help="skip the pytest-xdist comparison")
    p.add_argument("--no-xdist-contracts", action="store_true", help="xdist: compare the unit tests only")
    p.add_argument("--profile", action="store_true", help="also profile one default run with py-spy")
    p.add_argument("--mutation-score", type=Path, default=MUTATION_SCORE, help="default: reports/mutation-score.json")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)

    report: dict = {"generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine()}
    print(f"machine: {report['machine']}", flush=True)
    print("default run (python -m pytest -q -p no:cacheprovider), each after a bare httpx loop:", flush=True)
    report["default_run"] = default_run(max(1, args.runs), args.loop_seconds)
    if args.profile:
        print("profiling one default run with py-spy ...", flush=True)
        report["profile"] = profile_default_run()
    print("reference server, valid updates only ...", flush=True)
    loops = [bare_loop(valid_only=True, seconds=args.loop_seconds) for _ in range(max(1, args.runs))]
    report["refserver_valid_updates"] = {
        **sorted(loops, key=lambda x: x["requests_per_s"])[len(loops) // 2],
        "requests_per_s_all": [x["requests_per_s"] for x in loops],
    }
    d = report["default_run"]
    report["suite_vs_bare"] = {
        "suite_requests_per_s": d.get("requests_per_s"),
        "bare_requests_per_s": d.get("bare_requests_per_s"),
        "bare_mix": "valid PUTs, GET read-back, no key, bad body, wrong type, unknown id (keep-alive httpx.Client)",
        "ratio": d.get("ratio_to_bare"),
        "ratio_all_runs": d.get("ratio_all"),
        "target_ratio": 0.25,
    }
    report["mutation_catalogue"] = mutation_catalogue(args.mutation_score)
    if not args.no_xdist:
        print("pytest-xdist -n 2 vs one process ...", flush=True)
        report["xdist"] = xdist(include_contracts=not args.no_xdist_contracts, runs=max(1, args.runs))

    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_summary(report)
    print(f"written: {args.out}")
    return 0


def print_summary(r: dict) -> None:
    m, d, sv = r["machine"], r["default_run"], r["suite_vs_bare"]
    rows = [
        ("machine", f"{m['cpu_count']} CPUs ({m['usable_cpus']} usable), Python {m['python']}, {m['platform']}"),
        ("load average start/end", f"{m['load_average_at_start']} / {m.get('load_average_at_end')}"),
        ("default run, wall", f"{d.get('wall_s')} s (all runs: {d.get('wall_s_all')})"),
        ("default run, requests", f"{d.get('requests')} in a test phase of {d.get('test_phase_s')} s"),
        ("suite request rate", f"{sv['suite_requests_per_s']} req/s"),
        ("bare httpx loop, same mix", f"{sv['bare_requests_per_s']} req/s"),
        ("suite / bare", f"{sv['ratio']} (target >= {sv['target_ratio']}; all runs {sv['ratio_all_runs']})"),
        ("reference server, valid updates", f"{r['refserver_valid_updates']['requests_per_s']} req/s"),
    ]
    mc = r["mutation_catalogue"]
    if mc.get("available"):
        rows.append(
            (
                "mutants: time to first failure",
                f"median {mc['median_s_to_first_failure']} s, worst {mc['worst_s_to_first_failure']} s "
                f"({mc['worst_variant']}), over {mc['mutants_failed']} of {mc['mutants']} mutants that failed"
                + ("" if mc.get("complete_catalogue") else " (partial catalogue)"),
            )
        )
    else:
        rows.append(("mutants: time to first failure", mc["note"]))
    for name, part in (r.get("xdist") or {}).items():
        if isinstance(part, dict) and "speedup" in part:
            rows.append(
                (
                    f"xdist -n 2, {name}",
                    f"{part['one_process']['wall_s']} s -> {part['n2']['wall_s']} s: {part['speedup']}x "
                    f"(all pairs {part.get('speedup_all')})",
                )
            )
    prof = r.get("profile")
    if prof and prof.get("available"):
        top = ", ".join(f"{k} {v}%" for k, v in list(prof["test_phase_percent"].items())[:6])
        rows.append(("profile of the test phase", top))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
