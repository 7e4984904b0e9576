"""Reports: summary.json, summary.md, junit.xml, report.html, and behaviour.json (the renderers are
`report_markdown`, `report_junit`, `report_html`; what they share, `report_text`).

All render one plain model (`collect`) built from the run's result (`result.RunResult`): the whole
clause catalogue with a column per API version (so a clause that was not exercised, or does not apply,
still shows), each version's cost and coverage plan, what the budget left out, the drift against a
baseline, and the known-deviations state. Every string in the model, and then every file's full text,
passes the secret scrubber: a report is uploaded as a CI artifact, the last place a key may leak.
`write_run` is the one writer of a run's reports (a pytest run's and every command's).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fpjs_conformance import clauses, evidence_report, har, narrowing, observed, redact
from fpjs_conformance import profile as profiles
from fpjs_conformance.report_html import to_html
from fpjs_conformance.report_junit import to_junit
from fpjs_conformance.report_markdown import to_markdown
from fpjs_conformance.report_text import STATUSES, drift_lines
from fpjs_conformance.result import RunResult
from fpjs_conformance.runstate import Exit, rerun_line, restore_command

SUITE = "fpjs-update-event-conformance"
FILES = ("summary.json", "summary.md", "junit.xml", "report.html", "behaviour.json", har.FILE)
NOT_RUN = "not exercised in this run"
PARTIAL = "partial"  # exit 0, but the run was narrowed: not every clause was judged
RESULTS = {
    0: "passed",
    1: "failed",
    2: "interrupted",
    4: "usage-error",
    6: "setup-problem",
    7: "incomplete",
    8: "drift",
    9: "reports-not-written",
    10: "not-restored",
}


def write_placeholder(report_dir: Path) -> None:
    """Before the first request: prove the folder writable, and let no earlier report pass as this run's."""
    report_dir.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (report_dir / name).unlink(missing_ok=True)
    running = {"suite": SUITE, "result": "running", "started_at": _now()}
    (report_dir / "summary.json").write_text(json.dumps(running) + "\n", encoding="utf-8")


def write_run(result: RunResult, status: int, extra: dict | None = None) -> tuple[int, list[Path]]:
    """A run's reports, recording exit status `status`, with what a command adds (`extra`: keys of summary.json;
    `sections`: titled lines in summary.md and report.html): the exit status (9 when they could not be written
    and nothing worse happened) and the paths written."""
    model = collect(result, status)
    model.update(extra or {})
    report_dir = result.options.report_dir
    try:
        return status, write_all(report_dir, model, result.behaviour, list(result.secrets), result.har)
    except OSError as exc:
        sys.stderr.write(f"fpjs: could not write the reports to {report_dir}: {exc}\n")
        return (Exit.REPORTS if status == Exit.OK else status), []


def write_all(
    report_dir: Path, model: dict, behaviour: dict, secrets: list[str], traffic: list | None = None
) -> list[Path]:
    """Write every report into `report_dir` (the traffic as HAR too, when it was recorded); the paths written."""
    run = _deep(model, secrets)
    files = (
        ("summary.json", to_json(run)),
        ("summary.md", to_markdown(run)),
        ("junit.xml", to_junit(run)),
        ("report.html", to_html(run)),
        ("behaviour.json", json.dumps(behaviour, indent=2, ensure_ascii=False, sort_keys=True) + "\n"),
    )
    paths = write_files(report_dir, files, secrets)
    if traffic is not None:
        paths.append(har.write(report_dir / har.FILE, traffic, secrets))
    return paths


def write_files(report_dir: Path, files: Iterable[tuple[str, str]], secrets: list[str]) -> list[Path]:
    """The one writer of report files (a run's, a replay's, a migration's): (name, text) each written into
    `report_dir`, scrubbed of the secrets; the paths written."""
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files:
        path = report_dir / name
        # A lone surrogate a server sent (or stored) is written as its escape, never a report lost to it.
        path.write_text(redact.scrub(text, secrets), encoding="utf-8", errors="backslashreplace")
        paths.append(path)
    return paths


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the model ------------------------------------------------------------------------------------
def clause_status(tally, listed: bool, errors: list, selected: bool, budget_cut: bool) -> str:
    """One word per clause and version; a listed clause is judged by whether it still breaks."""
    passed, failed = (tally.passed, tally.failed) if tally else (0, 0)
    if errors:
        return "failed"
    if listed and (failed or (tally and tally.warned)):
        return "known-deviation"
    if listed and passed:
        return "stale-deviation"
    if failed:
        return "failed"
    if tally and tally.warned:  # SHOULD findings only: reported, the run not failed
        return "warning"
    if passed:
        return "passed"
    if tally and tally.skipped:
        return "skipped"
    if selected and budget_cut:
        return "budget"
    return "not-run"


def as_result(run) -> RunResult:
    """`run` as its result: replay still hands its `Run` to `collect` and `closing_lines` (its result then is
    made here, once per call)."""
    return run if isinstance(run, RunResult) else RunResult.of(run)


def collect(run: RunResult, exit_status: int) -> dict[str, Any]:
    """The run's result as plain data: what every report renders."""
    run = as_result(run)
    dev = run.deviations or {}
    versions = list(run.options.versions)
    left_out = run.left_out
    stopped = stopped_versions(run)
    narrowed = narrowing.narrowed(run.selected, versions)
    partly = {v: narrowing.partly_judged(run.selected, v) for v in narrowed}
    rows, incomplete, budget = [], [], []
    judged_clauses = clauses.catalogue() if run.judges_clients else clauses.server_clauses()
    for cid, clause in judged_clauses.items():
        per_version = {}
        for version in versions:
            per_version[version] = _cell(run, clause, version, dev, left_out, rerun_line)
            if version in stopped and per_version[version]["status"] not in NEVER_UNJUDGED:
                per_version[version].update(status="not-judged", skipped=[stopped[version]])
            elif cid in partly.get(version, ()):
                _narrowed_cell(per_version[version], cid in run.selected.get(version, set()))
            status = per_version[version]["status"]
            cases = per_version[version].get("coverage_cases", {})
            selected = clause.level == "MUST" and cid in run.selected.get(version, set())
            if selected and status in ("skipped", "not-run", "budget", "not-judged"):
                why = "; ".join(per_version[version]["skipped"]) or NOT_RUN
                incomplete.append({"clause": cid, "version": version, "why": why})
            if cid in left_out.get(version, set()):  # the budget cut some (or all) of its coverage cases
                budget.append({"clause": cid, "version": version, **cases, "exercised": status != "budget"})
        row = {"id": cid, "area": clause.area, "level": clause.level, "title": clause.title, "versions": per_version}
        rows.append({**row, "source": clause.source_records()})
    totals = {v: Counter(r["versions"][v]["status"] for r in rows) for v in versions}
    failures = run.failures()
    model = {
        "suite": SUITE,
        "generated_at": _now(),
        "result": None,  # these three: settle()
        "exit_status": None,
        "stopped": None,
        "stopped_versions": stopped,
        "whole_run_stopped": whole_run_stop(run),
        "duration_s": run.duration_s,
        "first_violation_s": run.first_violation_s,
        "seed": run.seed,
        "hypothesis_profile": run.exploration.hypothesis_profile.name,
        "options": run.options.shown(),
        "deviations": {k: v for k, v in dev.items() if k != "entries"} or None,
        "versions": [_version(run, v) for v in versions],
        "totals": {v: {s: totals[v].get(s, 0) for s in STATUSES} for v in versions},
        "incomplete": incomplete,
        "budget_left_out": budget,
        "drift": run.drift,
        "observed": run.observed,
        "failures": failures,
        "evidence": evidence_report.model(run),
        "narrowed": narrowed,  # version -> the clauses a narrowed run did not select
        "clauses": rows,
    }
    settle(model, exit_status, run.stopped)
    return model


def settle(model: dict[str, Any], exit_status: int, stopped: str | None) -> None:
    """The run's result, from its exit status (see the plugin's `exit_status`); a narrowed run that would
    pass is `partial`."""
    result = RESULTS.get(exit_status, "failed")
    if result == "passed" and model.get("narrowed"):
        result = PARTIAL
    model.update(result=result, exit_status=int(exit_status), stopped=stopped)


def _narrowed_cell(cell: dict[str, Any], selected: bool) -> None:
    """A clause a narrowed run did not fully judge: a pass is a partial verdict (a failure stands)."""
    if selected:
        why = "partly judged: every response informs it, and this run sent only the selected clauses' requests"
    else:
        why = "not selected in this run (-k, --deselect, node ids): judged only on the selected clauses' requests"
    if cell["status"] in ("passed", "stale-deviation"):
        cell.update(status="partly-judged", skipped=[why])
    elif cell["status"] == "not-run":
        cell.update(skipped=[why.split(":", 1)[0]])


# A cell with one of these keeps it when its version stopped: a failure found before the stop stands.
NEVER_UNJUDGED = ("failed", "stale-deviation", "known-deviation", "not-applicable")


def whole_run_stop(run: RunResult) -> str | None:
    """Why the whole run stopped before it judged everything (a signal, the run timeout), if it did."""
    if run.stop_request or run.stop_code == 2:
        return run.stop_request or "interrupted"
    if run.timed_out:
        return f"the run took longer than --run-timeout={run.options.run_timeout:g}s"
    return None


def stopped_versions(run: RunResult) -> dict[str, str]:
    """version -> why it was not judged (its own stop, or the whole run's): none of its clauses passes."""
    out = {v: s["line"] for v, s in run.version_stops.items()}
    whole = whole_run_stop(run)
    if whole:
        for version in run.options.versions:
            out.setdefault(version, whole)
    return out


def _cell(run: RunResult, clause, version: str, dev: dict, left_out: dict, rerun_line) -> dict[str, Any]:
    if not clause.applies_to(version):
        return {
            "status": "not-applicable",
            "passed": 0,
            "failed": 0,
            "requests": 0,
            "skipped": [f"not applicable to {version}"],
        }
    target = run.versions.get(version)
    tally = target.tallies.get(clause.id) if target else None
    errors = run.errors.get(f"{version}::{clause.id}", [])
    listed = dev.get("entries", {}).get(version, {}).get(clause.id)
    selected = clause.id in run.selected.get(version, set())
    status = clause_status(tally, bool(listed), errors, selected, clause.id in left_out.get(version, set()))
    skipped = list(tally.skipped) if tally else []
    if status == "budget":
        skipped = [f"the request budget (--max-requests={run.options.max_requests}) was spent before its cases"]
    elif status == "not-run":
        skipped = [NOT_RUN]
    cell: dict[str, Any] = {
        "status": status,
        "passed": tally.passed if tally else 0,
        "failed": tally.failed if tally else 0,
        "requests": tally.requests if tally else 0,
        "coverage_cases": {"planned": tally.planned, "sent": tally.covered} if tally else {"planned": 0, "sent": 0},
        "skipped": skipped,
        "tests": sorted(tally.tests) if tally else [],
        "examples": list(tally.examples) if tally else [],
        "warned": tally.warned if tally else 0,
        "warnings": list(tally.warnings) if tally else [],
        "errors": errors,
        "deviation": listed,
    }
    if status in ("failed", "known-deviation", "stale-deviation", "warning") and target is not None:
        cell["requirement"] = clause.requirement(target.profile)
        cell["spec_pointer"] = clause.pointers[version]
        cell["spec_text"] = clause.spec_text(target.profile)
        cell["rerun"] = rerun_line(run, clause.id, version)
    return cell


def _version(run: RunResult, version: str) -> dict[str, Any]:
    target = run.versions.get(version)
    p = profiles.load(version)
    return {
        "version": version,
        "document": p.document_name,
        "operation": f"{p.update_method} {p.server_path}{p.update_path}",
        "target": target.base_url if target else (run.options.base_urls or {}).get(version),
        "embedded": run.options.embedded,
        "stats": run.stats.get(version, {}),
        "transport": run.transport_records.get(version, {"resends": [], "errors": []}),
        "plan": run.plans.get(version),
        "estimate": run.plans_ahead.get(version),
        "restore": _restore_record(run, version),
        "stopped": (run.version_stops.get(version) or {}).get("line"),
    }


def _restore_record(run: RunResult, version: str) -> dict[str, Any] | None:
    """How the restore went, and the original values and journal a user needs to put them back by hand."""
    outcome = run.restores.get(version)
    if outcome is None and run.journal is None:
        return None
    record = dict(outcome or {"status": "not restored", "why": "the run stopped before the restore"})
    if run.journal is not None:
        record["journal"] = run.journal
        record["original"] = profiles.load(version).to_wire(run.original)
    return record


def _deep(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact.scrub(value, secrets)
    if isinstance(value, dict):
        return {redact.scrub(str(k), secrets): _deep(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_deep(v, secrets) for v in value]
    return value


# -- summary.json ---------------------------------------------------------------------------------
def to_json(run: dict) -> str:
    return json.dumps(run, indent=2, ensure_ascii=False, default=str) + "\n"


# -- the terminal ---------------------------------------------------------------------------------
def closing_lines(run: RunResult) -> list[str]:
    """What the terminal says at the end besides pytest's own lines: gaps, budget, drift, and last, why it
    stopped (a stopped run lists no gaps: nothing after the stop line but pytest's count)."""
    run = as_result(run)
    lines = []
    if run.options.max_requests is not None or any(p.get("left_out") for p in run.plans.values()):
        for version, plan in run.plans.items():
            cut = len(plan["left_out"])
            if cut and not plan.get("stopped_early"):  # -x: the STOPPED line says why
                total = plan["cases"]
                lines.append(
                    f"fpjs: INCOMPLETE [{version}]: the request budget left {cut} of {total} coverage cases unsent"
                )
    if not run.stopped:
        for version, target in run.versions.items():
            gaps, needs = [], []
            for cid in sorted(run.selected.get(version, set())):
                clause = clauses.get(cid)
                tally = target.tallies.get(cid)
                if clause.level == "MUST" and not (tally and tally.exercised):
                    why = "; ".join(tally.skipped) if tally and tally.skipped else "not exercised"
                    (needs if why.startswith("needs ") else gaps).append(f"{cid} ({why})")
            if gaps or (needs and run.options.require_all):
                items = gaps + (needs if run.options.require_all else [])
                lines.append(
                    f"fpjs: INCOMPLETE [{version}]: {len(items)} MUST clause(s) not exercised: {', '.join(items)}"
                )
            if needs and not run.options.require_all:
                lines.append(f"fpjs [{version}]: not exercised without optional inputs: {', '.join(needs)}")
    for line in observed.unmet(run.observed, run.options.require_observed):
        lines.append(f"fpjs: INCOMPLETE (--require-observed): {line}")
    lines += evidence_report.terminal(run)
    for i, line in enumerate(drift_lines(run.drift)):
        lines.append(("fpjs: DRIFT: " if i == 0 else "fpjs:   ") + line)
    for version, left in narrowing.narrowed(run.selected, run.options.versions).items():
        lines.append(
            f"fpjs: PARTIAL [{version}]: {len(left)} clause(s) not selected (-k, --deselect, node ids), and the "
            f"clauses every response informs ({', '.join(sorted(narrowing.universal()))}) saw only the selected "
            "clauses' requests: not judged as a full run judges them"
        )
    if run.stopped:
        lines.append(f"fpjs: STOPPED: {run.stopped}")
    lines += left_open_lines(run)
    return lines


def left_open_lines(run: RunResult) -> list[str]:
    """The very last line when the event may not be as found: the restore did not finish (exit 10), or left
    the journal open (a concurrent or later writer, another run's claim). It names the journal and the
    command that finishes the restore; nothing else may follow it but pytest's count."""
    left = run.left_open
    if left is None and not run.unrestored:
        return []
    statuses = sorted({r.get("status", "") for r in run.restores.values()})
    head = "fpjs: NOT RESTORED" if run.unrestored else "fpjs: JOURNAL OPEN"
    event = run.options.request_id or "the designated event"
    if left is None:
        return [f"{head}: {event} ({', '.join(statuses)}): no journal holds its original values (see summary.json)"]
    path, version = left
    return [
        f"{head}: {event} may not hold its original values ({', '.join(statuses)}); they are in the "
        f"journal {path}: put them back with `{restore_command(run, path, version)}` (the same key"
        f"{', and the user:password of the base URL' if run.options.userinfo else ''})"
    ]
