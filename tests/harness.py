"""Run the contract suite against one server variant, and judge what it found.

Two paths, one verdict. End to end: the variant runs as a real server process on loopback and the suite
in a subprocess with the command line a user would type, every API version the variant is judged under
at once. In process (tests/inprocess.py): the variant is served by uvicorn in a thread of this process,
and the suite runs through the library with the same options, over real HTTP. Controls, mutants that need
random examples and a fixed sample of mutants (`end_to_end`) go end to end; the other mutants run in
process. Either way the verdict reads the run's summary.json: per version, the clauses that failed and the
failure records (clause, check, expected, received) in the order they were found. Every file the run
wrote and its output are searched for the key (the canary).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fpjs_conformance import clauses, rules
from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Settings
from fpjs_conformance.refserver.launch import LaunchError, ServerProcess
from tests import inprocess
from tests.runner import ROOT, SuiteRun, files_text, run_suite
from tests.variants import REGISTRY, Variant

RESULTS_DIR = ROOT / "reports" / "variants"  # a folder per session, a JSON per variant (tests/conftest.py)
SUITE_TIMEOUT = {"mutant": 150.0, "control": 240.0}  # wall-clock seconds for one suite run
CANARY_RUN = 12  # characters of a 33-character random key that must never show up together
REQUEST_TIMEOUT = "2"  # seconds per request: a hanging variant costs seconds, not minutes
NOT_READY_BUDGET = "4"  # seconds a write waits out not-ready: a 409 that never clears costs seconds too
SETTLE_TIME = "1"  # seconds a stale read-back is read again: a mutant that loses writes costs one, not two
TABLE_ONLY = "table"  # the run profile without random examples: what mutants run under
IN_PROCESS, END_TO_END = "in-process", "end-to-end"


def check_functions() -> dict[str, str | None]:
    """Every check function a broken server can trip -> its fixed clause id (None: varies). The client
    clauses' checks judge what clients send: broken clients trip them (tests/test_proxy.py)."""
    client = set(clauses.catalogue()) - set(clauses.server_clauses())
    client = {fn.__name__ for cid in client for fn in rules.get(cid).checks}
    return {name: cid for name, cid in rules.check_functions().items() if name not in client}


@dataclass
class Outcome:
    """What one variant run showed under one API version, and the verdict."""

    name: str
    kind: str
    version: str
    expected: list[str]
    named: str | None = None  # the clause of the first failure record among the expected ones
    all_named: list[str] = field(default_factory=list)  # every clause that failed under the version
    killed_by: str | None = None
    seconds: float = 0.0
    exit_code: int | None = None
    verdict: str = ""
    evidence: str = ""  # the failure record's summary, or the tail of the output
    known_gap: str | None = None
    profile: str = "default"
    requests: int | None = None
    path: str = END_TO_END  # how it was judged: END_TO_END (a server process, `python -m pytest`) or IN_PROCESS

    @property
    def ok(self) -> bool:
        return self.verdict in ("killed", "passed")

    @property
    def expected_failed(self) -> list[str]:
        """The clauses the variant breaks that failed under this version."""
        return [c for c in self.expected if c in self.all_named]

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.{self.version}.json"
        path.write_text(json.dumps(asdict(self), indent=2))
        return path


def suite_options(variant: Variant, url: str) -> dict[str, str | bool]:
    """What a user gives the suite besides the keys (option dest -> value): the variant's URL and versions,
    the reference server's events, short bounds (a hanging variant costs seconds, not minutes; a 409 that
    never clears and a read that never settles too), and --strict for a mutant of what rests on the suite's
    judgement."""
    d = Settings()
    values = {
        "base_url": base_url(url, variant),
        "request_id": d.request_id,
        "api_version": ",".join(variant.versions),
        "expired_request_id": d.expired_request_id,
        "not_ready_request_id": d.not_ready_request_id,
        "foreign_request_id": d.foreign_request_id,
        "request_timeout": REQUEST_TIMEOUT,
        "not_ready_budget": NOT_READY_BUDGET,
        "settle_time": SETTLE_TIME,
    }
    return {**values, "strict": True} if variant.strict else values


def suite_args(values: dict[str, str | bool]) -> list[str]:
    """`values` as a command line (without --base-url, which `run_suite` puts first; True: a flag).

    Mutants run without `-x` (which stops at the first violation): the summary holds every finding of
    every version's table, and the verdict names the mutant's own clause."""
    args = [
        f"--{dest.replace('_', '-')}" if value is True else f"--{dest.replace('_', '-')}={value}"
        for dest, value in values.items()
        if dest != "base_url"
    ]
    return args


def base_url(url: str, variant: Variant) -> str:
    """The root for several versions; for one version, its server URL (`.../v4`), as a user gives it."""
    if len(variant.versions) == 1:
        return url + profiles.load(variant.versions[0]).server_path
    return url


def end_to_end_sample() -> set[str]:
    """The mutants judged end to end although the table alone judges them: the first registered in each
    module of tests/variants/, so every area keeps the user's whole path proven."""
    first: dict[str, str] = {}
    for name, v in REGISTRY.items():
        if v.kind == "mutant":
            first.setdefault(v.server.__module__, name)
    return set(first.values())


def end_to_end(variant: Variant) -> bool:
    """Judged as a user runs the suite: controls (the default profile, random examples), mutants that need
    random examples, and the sample; the rest in process."""
    return variant.kind == "control" or variant.needs_exploration or variant.name in end_to_end_sample()


def run(
    variant: Variant,
    report_dir: Path,
    known_gap: str | None = None,
    env: dict | None = None,
    path: str | None = None,
) -> list[Outcome]:
    """Judge `variant`; one verdict per version it is judged under. `path`: END_TO_END or IN_PROCESS (default:
    `end_to_end` decides). `env`: more environment for the server and the suite (a folder of profiles of
    your own: FPJS_PROFILE_PATH): end to end only, a process of its own reads it."""
    key, wrong_region_key = "k" + secrets.token_hex(16), "w" + secrets.token_hex(16)
    foreign_key = "f" + secrets.token_hex(16)
    # Mutants run the coverage table alone: killed there, they are killed in every profile (each runs the
    # table first). Controls run the default profile: a false alarm may come from any random example.
    profile = TABLE_ONLY if variant.kind == "mutant" and not variant.needs_exploration else "default"
    path = path or (END_TO_END if env is not None or end_to_end(variant) else IN_PROCESS)
    if path == IN_PROCESS and (profile != TABLE_ONLY or env is not None):
        raise ValueError(f"{variant.name}: only the table profile, in this process's environment, runs in process")
    started = time.monotonic()
    left: list[str] = []
    if path == IN_PROCESS:
        given = lambda url: {**suite_options(variant, url), "report_dir": str(report_dir)}  # noqa: E731
        suite, left = inprocess.run_suite(variant, given, key, wrong_region_key, foreign_key)
        output = suite.output
    else:
        suite, output = _end_to_end(variant, report_dir, (key, wrong_region_key, foreign_key), profile, env)
    seconds = round(time.monotonic() - started, 1)
    said = output + (files_text(report_dir) if report_dir.is_dir() else "")
    leaked = [s for s in (key, wrong_region_key, foreign_key) if exposes(said, s)]
    summary = suite.summary if suite else {}
    outcomes = []
    for version in variant.versions:
        outcome = Outcome(variant.name, variant.kind, version, list(variant.clauses), known_gap=known_gap)
        outcome.seconds, outcome.profile, outcome.path = seconds, profile, path
        outcome.exit_code = suite.returncode if suite else None
        judge(outcome, summary, output, leaked)
        if left:  # the next variant in this process would not start clean: fail closed
            outcome.verdict, outcome.evidence = "error", f"the in-process run left behind: {', '.join(left)}"
        outcomes.append(outcome)
    return outcomes


def _end_to_end(
    variant: Variant, report_dir: Path, keys: tuple[str, str, str], profile: str, env: dict | None
) -> tuple[SuiteRun | None, str]:
    """The variant as a server process, the suite as `python -m pytest` in a subprocess: the run and its output.
    `keys`: the API key, the wrong region's, the other workspace's."""
    key, wrong_region_key, foreign_key = keys
    args = ["-m", "tests.variants", variant.name, "--port", "0"]
    given = ["--api-key", key, "--wrong-region-api-key", wrong_region_key, "--foreign-api-key", foreign_key]
    server = ServerProcess([*args, *given], env=env)
    suite: SuiteRun | None = None
    output = ""
    try:
        server.start()
        extra = {
            **(env or {}),
            "FPJS_WRONG_REGION_API_KEY": wrong_region_key,
            "FPJS_FOREIGN_API_KEY": foreign_key,
            "FPJS_HYPOTHESIS_PROFILE": profile,
        }
        values = suite_options(variant, server.url)
        suite = run_suite(
            values["base_url"],
            key,
            report_dir,
            *suite_args(values),
            timeout=SUITE_TIMEOUT[variant.kind],
            env=extra,
            request_id=None,
        )
        output = suite.output
    except (LaunchError, subprocess.TimeoutExpired) as exc:
        output = f"{type(exc).__name__}: {exc}"
    finally:
        server.stop()
    return suite, output


# What both paths must say alike. Of the clauses failed, those the mutant breaks (`expected_failed`): a
# clause a server's slowness fails (a 2 s request timeout on a busy machine) may fail on one path only.
AGREE_ON = ("verdict", "exit_code", "named", "killed_by", "expected_failed")


def disagreements(end_to_end: list[Outcome], in_process: list[Outcome]) -> list[str]:
    """Where the two paths judged one variant differently, per version (empty: the same verdicts, for the
    same clauses, by the same checks)."""
    theirs = {o.version: o for o in in_process}
    out = []
    for mine in end_to_end:
        other = theirs.get(mine.version)
        for name in AGREE_ON:
            if other is None or getattr(mine, name) != getattr(other, name):
                shown = getattr(other, name, "not judged")
                out.append(f"[{mine.version}] {name}: end to end {getattr(mine, name)!r}, in process {shown!r}")
    return out


def exposes(text: str, secret: str) -> bool:
    """The canary: any CANARY_RUN characters of `secret` in a row, so a near miss of the key
    echoed back by a server (all but one character of it) counts as a leak too."""
    return any(secret[i : i + CANARY_RUN] in text for i in range(len(secret) - CANARY_RUN + 1))


def judge(outcome: Outcome, summary: dict, output: str, leaked: list[str]) -> None:
    """The verdict for one version, from the run's summary (fields, not printed text)."""
    version = outcome.version
    statuses = {c["id"]: c["versions"].get(version, {}).get("status") for c in summary.get("clauses", [])}
    outcome.all_named = [cid for cid, status in statuses.items() if status == "failed"]
    records = [f for f in summary.get("failures", []) if f.get("version") == version]
    stats = next((v.get("stats") or {} for v in summary.get("versions", []) if v.get("version") == version), {})
    outcome.requests = stats.get("requests_sent")
    hits = [r for r in records if r["clause"] in outcome.expected] or records
    if hits:
        outcome.named, outcome.killed_by = hits[0]["clause"], hits[0]["check"]
        outcome.evidence = hits[0]["summary"][:600]
    else:
        outcome.evidence = (summary.get("stopped") or output.strip()[-600:])[:600]
    failed_expected = [c for c in outcome.expected if c in outcome.all_named]
    if failed_expected and outcome.named not in failed_expected:
        outcome.named = failed_expected[0]
    restore = next((v.get("restore") or {} for v in summary.get("versions", []) if v.get("version") == version), {})
    if leaked:
        outcome.verdict = "key leaked"
    elif restore.get("status") == "concurrent writer":  # nobody else writes here: a server fault misblamed
        outcome.verdict = "misblamed restore"
    elif outcome.kind == "control":
        outcome.verdict = "passed" if outcome.exit_code == 0 else "failed"
    elif outcome.exit_code == 0:
        outcome.verdict = "survived"
    elif outcome.exit_code != 1:
        outcome.verdict = "error"
    else:
        outcome.verdict = "killed" if failed_expected else ("wrong clause" if outcome.all_named else "survived")


def score(results: list[dict], variants: dict[str, Variant]) -> dict:
    """The mutation score of one session's results, per API version; `variants`: the whole catalogue."""
    versions = sorted({r["version"] for r in results})
    per_version = {}
    for version in versions:
        mine = [r for r in results if r["version"] == version]
        mutants = [r for r in mine if r["kind"] == "mutant"]
        killed = [r for r in mutants if r["verdict"] == "killed"]
        per_version[version] = {
            "mutants": len(mutants),
            "killed": len(killed),
            "score": round(len(killed) / len(mutants), 3) if mutants else None,
            "controls": sum(r["kind"] == "control" for r in mine),
            "controls_passed": sum(r["verdict"] == "passed" for r in mine if r["kind"] == "control"),
        }
    killed = [r for r in results if r["kind"] == "mutant" and r["verdict"] == "killed"]
    killers = {r["killed_by"] for r in killed}
    complete = {r["name"] for r in results} >= set(variants)
    paths: dict[str, dict[str, int]] = {}
    for r in {r["name"]: r for r in results}.values():  # a variant's run covers all its versions
        counts = paths.setdefault(r.get("path", END_TO_END), {"mutant": 0, "control": 0})
        counts[r["kind"]] += 1
    return {
        "versions": per_version,
        "paths": paths,
        "known_gaps": {r["name"]: r["known_gap"] for r in results if r.get("known_gap")},
        "complete_catalogue": complete,
        # Only meaningful when every mutant ran: a check that killed none is untested.
        "checks_that_killed_nothing": sorted(set(check_functions()) - killers) if complete else None,
        "kills_per_check": {c: sum(r["killed_by"] == c for r in killed) for c in sorted(check_functions())},
        "variants": results,
    }


def markdown(data: dict) -> str:
    """reports/mutation-score.md: per version the score, the table, kills per check, and each miss."""
    lines = ["# Mutation score", ""]
    for version, s in data["versions"].items():
        lines.append(
            f"- **{version}**: {s['killed']}/{s['mutants']} mutants killed for the right reason (score {s['score']}); "
            f"{s['controls_passed']}/{s['controls']} controls passed."
        )
    for path, n in data.get("paths", {}).items():
        lines.append(f"- judged {path}: {n['mutant']} mutants, {n['control']} controls.")
    lines += [
        "",
        "| variant | version | kind | judged | clause expected | clause named | killed by | requests | seconds "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["variants"]:
        verdict = r["verdict"] + (" (known gap)" if r.get("known_gap") else "")
        kind = r["kind"] + (" (table only)" if r.get("profile") == TABLE_ONLY else "")
        lines.append(
            f"| {r['name']} | {r['version']} | {kind} | {r.get('path', END_TO_END)} "
            f"| {', '.join(r['expected']) or '-'} | {r['named'] or '-'} "
            f"| {r['killed_by'] or '-'} | {r.get('requests') or '-'} | {r['seconds']} | {verdict} |"
        )
    lines += ["", "Kills per check: " + ", ".join(f"{c} {n}" for c, n in data["kills_per_check"].items())]
    if data["checks_that_killed_nothing"]:
        lines.append(f"Checks that killed no mutant: {', '.join(data['checks_that_killed_nothing'])}")
    wrong = [r for r in data["variants"] if r["verdict"] not in ("killed", "passed")]
    if wrong:
        lines += ["", "## Not killed for the right reason", ""]
    for r in wrong:
        why = f" Known gap: {r['known_gap']}." if r.get("known_gap") else ""
        said = " ".join(r["evidence"].split())[:300].replace("`", "'")
        lines.append(
            f"- `{r['name']}` [{r['version']}] ({r['verdict']}, named {r['all_named']}).{why} Suite said: `{said}`"
        )
    return "\n".join(lines) + "\n"
