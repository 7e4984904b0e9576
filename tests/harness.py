"""Run the contract suite, as a user would, against one server variant, and judge what it said.

A variant runs as a real server process on loopback; the suite runs in a subprocess with the
command line a user would type. The verdict reads only the suite's terminal output (reports are
another module's business), so the self-test proves what a user actually sees; report files are
only searched for the key (the canary).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from contracts import checks
from refserver import Settings
from refserver.launch import LaunchError, ServerProcess
from tests.runner import files_text, run_suite
from tests.variants import Variant

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "reports" / "variants"  # a folder per session, a JSON per variant (tests/conftest.py)
SUITE_TIMEOUT = {"mutant": 150.0, "control": 240.0}  # wall-clock seconds for one suite run
CANARY_RUN = 12  # characters of a 33-character random key that must never show up together
REQUEST_TIMEOUT = "2"  # seconds per request: a hanging variant costs seconds, not minutes
# Both run the profile a user gets by default: with the quicker `ci` profile some wrong-type
# mutants survive (too few examples), and a mutant killed with -x costs seconds anyway.
PROFILE = {"mutant": "default", "control": "default"}

# `UE-XXX-NN (title) violated | sent ... | expected ... | received ...`: the first line of a failure.
# The first two lines of a failure: `UE-XXX-NN (title) violated | sent ... | expected ... | received ...`
# then `  clause    UE-XXX-NN [MUST] <requirement> (check <the check function that raised it>)`.
FAILURE = re.compile(r"^(UE-[A-Z]+-\d+) \(.*?\) violated.*\n  clause +\S+ \[\w+\] .*\(check (\w+)\)$", re.M)


def check_functions() -> dict[str, str | None]:
    """Every check in contracts/checks.py (marked by @check) -> its fixed clause id (None: varies)."""
    return {name: fn.clause_id for name, fn in vars(checks).items() if callable(fn) and hasattr(fn, "clause_id")}


@dataclass
class Outcome:
    """What one variant run showed, and the verdict."""

    name: str
    kind: str
    expected: list[str]
    named: str | None = None  # the clause the suite's failure report named (a declared one first)
    all_named: list[str] = field(default_factory=list)
    killed_by: str | None = None
    seconds: float = 0.0
    exit_code: int | None = None
    verdict: str = ""
    evidence: str = ""  # the failure line that named the clause, or the tail of the output
    known_gap: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict in ("killed", "passed")

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.json"
        path.write_text(json.dumps(asdict(self), indent=2))
        return path


def suite_args(kind: str) -> list[str]:
    """What a user adds to `--base-url`, `--request-id` and the key: the other designated events, bounds."""
    d = Settings()
    args = [
        f"--expired-request-id={d.expired_request_id}",
        f"--not-ready-request-id={d.not_ready_request_id}",
        f"--request-timeout={REQUEST_TIMEOUT}",
    ]
    return [*args, "-x"] if kind == "mutant" else args


def server_env() -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}


def run(variant: Variant, report_dir: Path, known_gap: str | None = None) -> Outcome:
    """Start `variant`, run the suite against it, stop it; the verdict says whether the suite was right."""
    key, wrong_region_key = "k" + secrets.token_hex(16), "w" + secrets.token_hex(16)
    outcome = Outcome(variant.name, variant.kind, list(variant.clauses), known_gap=known_gap)
    started = time.monotonic()
    args = ["-m", "tests.variants", variant.name, "--port", "0"]
    server = ServerProcess([*args, "--api-key", key, "--wrong-region-api-key", wrong_region_key], env=server_env())
    try:
        server.start()
        env = {"FPJS_WRONG_REGION_API_KEY": wrong_region_key, "FPJS_HYPOTHESIS_PROFILE": PROFILE[variant.kind]}
        timeout = SUITE_TIMEOUT[variant.kind]
        suite = run_suite(server.url, key, report_dir, *suite_args(variant.kind), timeout=timeout, env=env)
        output, outcome.exit_code = suite.output, suite.returncode
    except (LaunchError, subprocess.TimeoutExpired) as exc:
        output = f"{type(exc).__name__}: {exc}"
    finally:
        server.stop()
    outcome.seconds = round(time.monotonic() - started, 1)
    said = output + (files_text(report_dir) if report_dir.is_dir() else "")
    leaked = [s for s in (key, wrong_region_key) if exposes(said, s)]
    for secret in leaked:
        output = output.replace(secret[:CANARY_RUN], "[key...]")
    judge(outcome, output, leaked)
    return outcome


def exposes(text: str, secret: str) -> bool:
    """The canary: any CANARY_RUN characters of `secret` in a row, so a near miss of the key
    echoed back by a server (all but one character of it) counts as a leak too."""
    return any(secret[i : i + CANARY_RUN] in text for i in range(len(secret) - CANARY_RUN + 1))


def judge(outcome: Outcome, output: str, leaked: list[str]) -> None:
    found = FAILURE.findall(output)
    outcome.all_named = list(dict.fromkeys(cid for cid, _ in found))
    hits = [f for f in found if f[0] in outcome.expected] or found
    if hits:
        outcome.named = hits[0][0]
        outcome.killed_by = hits[0][1]
        line = next(m for m in FAILURE.finditer(output) if m.group(1) == outcome.named)
        outcome.evidence = output[line.start() :].split("\n", 1)[0][:600]
    else:
        outcome.evidence = output.strip()[-600:]
    if leaked:
        outcome.verdict = "key leaked"
    elif outcome.kind == "control":
        outcome.verdict = "passed" if outcome.exit_code == 0 else "failed"
    elif outcome.exit_code == 0:
        outcome.verdict = "survived"
    elif outcome.exit_code != 1:
        outcome.verdict = "error"
    else:
        outcome.verdict = "killed" if outcome.named in outcome.expected else "wrong clause"


def score(results: list[dict], variants: dict[str, Variant]) -> dict:
    """The mutation score of one session's results; `variants`: the whole catalogue."""
    mutants = [r for r in results if r["kind"] == "mutant"]
    killed = [r for r in mutants if r["verdict"] == "killed"]
    killers = {r["killed_by"] for r in killed}
    complete = {r["name"] for r in results} >= set(variants)
    return {
        "mutants": len(mutants),
        "killed": len(killed),
        "score": round(len(killed) / len(mutants), 3) if mutants else None,
        "controls": sum(r["kind"] == "control" for r in results),
        "controls_passed": sum(r["verdict"] == "passed" for r in results),
        "known_gaps": {r["name"]: r["known_gap"] for r in results if r.get("known_gap")},
        "complete_catalogue": complete,
        # Only meaningful when every mutant ran: a check that killed none is untested.
        "checks_that_killed_nothing": sorted(set(check_functions()) - killers) if complete else None,
        "kills_per_check": {c: sum(r["killed_by"] == c for r in killed) for c in sorted(check_functions())},
        "variants": results,
    }


def markdown(data: dict) -> str:
    """reports/mutation-score.md: the table, kills per check, and what the suite said about each miss."""
    lines = [
        "# Mutation score",
        "",
        f"{data['killed']}/{data['mutants']} mutants killed for the right reason (score {data['score']}); "
        f"{data['controls_passed']}/{data['controls']} controls passed.",
        "",
        "| variant | kind | clause expected | clause named | killed by | seconds | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["variants"]:
        verdict = r["verdict"] + (" (known gap)" if r.get("known_gap") else "")
        lines.append(
            f"| {r['name']} | {r['kind']} | {', '.join(r['expected']) or '-'} | {r['named'] or '-'} "
            f"| {r['killed_by'] or '-'} | {r['seconds']} | {verdict} |"
        )
    lines += ["", "Kills per check: " + ", ".join(f"{c} {n}" for c, n in data["kills_per_check"].items())]
    if data["checks_that_killed_nothing"]:
        lines.append(f"Checks that killed no mutant: {', '.join(data['checks_that_killed_nothing'])}")
    wrong = [r for r in data["variants"] if r["verdict"] not in ("killed", "passed")]
    if wrong:
        lines += ["", "## Not killed for the right reason", ""]
    for r in wrong:
        why = f" Known gap: {r['known_gap']}." if r.get("known_gap") else ""
        lines_said = [line.strip() for line in r["evidence"].splitlines() if line.strip()]
        if r["named"]:
            said = lines_said[0][:300]  # the failure line
        else:  # the pytest summary line, or the tail of what went wrong
            said = lines_said[-1] if r["verdict"] == "survived" else " / ".join(lines_said)[-300:]
        said = said.replace("`", "'")
        lines.append(f"- `{r['name']}` ({r['verdict']}).{why} Suite said: `{said}`")
    return "\n".join(lines) + "\n"
