"""Reports: summary.json, summary.md, junit.xml, report.html, and behaviour.json.

All render one plain model (`collect`) built from the run: the whole clause catalogue with a
column per API version (so a clause that was not exercised, or does not apply, still shows),
each version's cost and coverage plan, what the budget left out, the drift against a baseline,
and the known-deviations state. Every string in the model, and then every file's full text,
passes the secret scrubber: a report is uploaded as a CI artifact, the last place a key may leak.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from fpjs_conformance import clauses, evidence_report, har, observed, redact
from fpjs_conformance import profile as profiles
from fpjs_conformance.runstate import rerun_line

SUITE = "fpjs-update-event-conformance"
FILES = ("summary.json", "summary.md", "junit.xml", "report.html", "behaviour.json", har.FILE)
NOT_RUN = "not exercised in this run"
# Worst first: the order of the totals and of the failure sections.
STATUSES = (
    "failed",
    "stale-deviation",
    "known-deviation",
    "warning",
    "not-judged",
    "budget",
    "skipped",
    "not-run",
    "passed",
    "not-applicable",
)
MARKS = {
    "failed": "❌",
    "stale-deviation": "⚠️",
    "known-deviation": "🟡",
    "warning": "🔶",
    "not-judged": "⛔",
    "budget": "⛔",
    "skipped": "⏭️",
    "not-run": "▫️",
    "passed": "✅",
    "not-applicable": "—",
}
RESULTS = {
    0: "passed",
    1: "failed",
    2: "interrupted",
    4: "usage-error",
    6: "setup-problem",
    7: "incomplete",
    8: "drift",
    9: "reports-not-written",
}


def write_placeholder(report_dir: Path) -> None:
    """Before the first request: prove the folder writable, and let no earlier report pass as this run's."""
    report_dir.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (report_dir / name).unlink(missing_ok=True)
    running = {"suite": SUITE, "result": "running", "started_at": _now()}
    (report_dir / "summary.json").write_text(json.dumps(running) + "\n", encoding="utf-8")


def write_all(report_dir: Path, model: dict, behaviour: dict, secrets: list[str], traffic: Any = None) -> list[Path]:
    """Write every report into `report_dir` (the traffic as HAR too, when it was recorded); the paths written."""
    run = _deep(model, secrets)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in (
        ("summary.json", to_json(run)),
        ("summary.md", to_markdown(run)),
        ("junit.xml", to_junit(run)),
        ("report.html", to_html(run)),
        ("behaviour.json", json.dumps(behaviour, indent=2, ensure_ascii=False, sort_keys=True) + "\n"),
    ):
        path = report_dir / name
        path.write_text(redact.scrub(text, secrets), encoding="utf-8")
        paths.append(path)
    if traffic is not None:
        paths.append(har.write(report_dir / har.FILE, traffic, secrets))
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


def collect(run, exit_status: int) -> dict[str, Any]:
    """The run as plain data: what every report renders."""
    judged = [v for v in run.options.versions if v in run.targets]
    run.observed = {v: observed.surface(profiles.load(v), run.traffic.of(v)) for v in judged}
    dev = run.deviations or {}
    versions = list(run.options.versions)
    left_out: dict[str, set[str]] = {}
    for version, plan in run.plans.items():
        cut = set(plan["left_out"])
        left_out[version] = {c.clause_id for c in run.table(version) if c.id in cut}
    stopped = stopped_versions(run)
    rows, incomplete, budget = [], [], []
    judged_clauses = clauses.catalogue() if run.judges_clients else clauses.server_clauses()
    for cid, clause in judged_clauses.items():
        per_version = {}
        for version in versions:
            per_version[version] = _cell(run, clause, version, dev, left_out, rerun_line)
            if version in stopped and per_version[version]["status"] not in NEVER_UNJUDGED:
                per_version[version].update(status="not-judged", skipped=[stopped[version]])
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
    failures = [f for v in versions if v in run.targets for f in run.targets[v].ledger.failures]
    model = {
        "suite": SUITE,
        "generated_at": _now(),
        "result": None,  # these three: settle()
        "exit_status": None,
        "stopped": None,
        "stopped_versions": stopped,
        "whole_run_stopped": whole_run_stop(run),
        "duration_s": round(time.time() - run.started_at, 3),
        "first_violation_s": run.first_violation_s(),
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
        "clauses": rows,
    }
    settle(model, exit_status, run.stopped)
    return model


def settle(model: dict[str, Any], exit_status: int, stopped: str | None) -> None:
    """The run's result, from its exit status alone (see the plugin's `exit_status`)."""
    model.update(result=RESULTS.get(exit_status, "failed"), exit_status=int(exit_status), stopped=stopped)


# A cell with one of these keeps it when its version stopped: a failure found before the stop stands.
NEVER_UNJUDGED = ("failed", "stale-deviation", "known-deviation", "not-applicable")


def whole_run_stop(run) -> str | None:
    """Why the whole run stopped before it judged everything (a signal, the run timeout), if it did."""
    if run.stop_request or run.stop_code == 2:
        return run.stop_request or "interrupted"
    if run.timed_out:
        return f"the run took longer than --run-timeout={run.options.run_timeout:g}s"
    return None


def stopped_versions(run) -> dict[str, str]:
    """version -> why it was not judged (its own stop, or the whole run's): none of its clauses passes."""
    out = {v: s["line"] for v, s in run.version_stops.items()}
    whole = whole_run_stop(run)
    if whole:
        for version in run.options.versions:
            out.setdefault(version, whole)
    return out


def optional_inputs(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The clauses left out because an optional input was not given (a neutral note, not a gap)."""
    return [i for i in model["incomplete"] if i["why"].startswith("needs ")]


def _cell(run, clause, version: str, dev: dict, left_out: dict, rerun_line) -> dict[str, Any]:
    if not clause.applies_to(version):
        return {
            "status": "not-applicable",
            "passed": 0,
            "failed": 0,
            "requests": 0,
            "skipped": [f"not applicable to {version}"],
        }
    target = run.targets.get(version)
    tally = target.ledger.clauses.get(clause.id) if target else None
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


def _version(run, version: str) -> dict[str, Any]:
    target = run.targets.get(version)
    p = profiles.load(version)
    return {
        "version": version,
        "document": p.document_name,
        "operation": f"{p.update_method} {p.server_path}{p.update_path}",
        "target": target.base_url if target else (run.options.base_urls or {}).get(version),
        "embedded": run.options.embedded,
        "stats": run.stats.get(version) or (target.transport.stats.as_dict() if target else {}),
        "transport": run.transport_records.get(version, {"resends": [], "errors": []}),
        "plan": run.plans.get(version),
        "estimate": run.plans_ahead.get(version),
        "restore": _restore_record(run, version),
        "stopped": (run.version_stops.get(version) or {}).get("line"),
    }


def _restore_record(run, version: str) -> dict[str, Any] | None:
    """How the restore went, and the original values and journal a user needs to put them back by hand."""
    outcome = run.restores.get(version)
    journal = run.event.journal
    if outcome is None and journal is None:
        return None
    record = dict(outcome or {"status": "not restored", "why": "the run stopped before the restore"})
    if journal is not None:
        record["journal"] = str(journal.path)
        record["original"] = profiles.load(version).to_wire(journal.data["original"])
    return record


def _deep(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact.scrub(value, secrets)
    if isinstance(value, dict):
        return {redact.scrub(str(k), secrets): _deep(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_deep(v, secrets) for v in value]
    return value


# -- shared text ----------------------------------------------------------------------------------
def _stats_line(v: dict) -> str:
    s = v.get("stats") or {}
    plan = v.get("plan") or {}
    cover = f"{plan.get('sent', 0)}/{plan.get('cases', 0)} coverage cases, " if plan else ""
    return (
        f"{s.get('requests_sent', 0)} requests ({cover}{s.get('retries_429', 0)} 429 retries, "
        f"{s.get('retries_409', 0)} 409 retries, {s.get('transport_errors', 0)} transport errors, "
        f"peak {s.get('peak_requests_per_second', 0)}/s)"
    )


def _seed_text(run: dict) -> str:
    if run["seed"] is None:
        return f"derandomized (profile {run['hypothesis_profile']})"
    return f"{run['seed']} (profile {run['hypothesis_profile']}; rerun with --hypothesis-seed={run['seed']})"


def _statuses_text(stats: dict) -> str:
    return ", ".join(f"{k}: {n}" for k, n in (stats.get("statuses") or {}).items()) or "none"


def _example_text(ex: dict) -> str:
    """An example as plain text: summary, request, response, replay line."""
    lines = [ex.get("summary", "")]
    if ex.get("test"):
        lines.append(f"test: {ex['test']}")
    req, resp = ex.get("request"), ex.get("response")
    if req:
        lines.append(f"request: {req['method']} {req['url']}")
        lines += [f"  {k}: {v}" for k, v in req["headers"].items()]
        if req.get("body"):
            lines.append(f"  body: {req['body']}")
    if resp:
        if resp.get("error"):
            lines.append(f"response: none ({resp['error']})")
        else:
            lines.append(f"response: {resp['status']} after {resp['attempts']} attempt(s), {resp['elapsed_s']}s")
            lines += [f"  {k}: {v}" for k, v in resp["headers"].items()]
            lines.append(f"  body: {resp['body']}")
    if ex.get("curl"):
        lines.append(f"replay (export FPJS_API_KEY first): {ex['curl']}")
    return "\n".join(lines)


def _note(cell: dict) -> str:
    """One line saying why a clause has its status in one version."""
    dev = cell.get("deviation")
    if cell["status"] == "stale-deviation":
        return f"listed as a known deviation but passed {cell['passed']}x without a violation: remove the entry"
    if cell.get("errors"):
        return cell["errors"][0]["summary"]
    if cell.get("examples"):
        ex = cell["examples"][0]
        text = f"expected {ex['expected']}; received {ex['received']}"
        return f"known deviation: {dev['reason']} — {text}" if dev else text
    if dev:
        return f"known deviation: {dev['reason']}"
    return "; ".join(cell["skipped"])


BAD = ("failed", "stale-deviation", "known-deviation")


def _failures(run: dict) -> list[tuple[dict, str, dict]]:
    """(clause row, version, cell) of every failed or listed clause, worst first."""
    out = [(r, v, c) for r in run["clauses"] for v, c in r["versions"].items() if c["status"] in BAD]
    return sorted(out, key=lambda t: BAD.index(t[2]["status"]))


def _worst(row: dict) -> int:
    return min(STATUSES.index(c["status"]) for c in row["versions"].values())


def _budget_text(b: dict) -> str:
    done = "exercised by the cases sent" if b["exercised"] else "not exercised"
    return f"{b['sent']} of {b['planned']} coverage cases sent before the request budget was spent; {done}"


def _drift_lines(drift: dict | None) -> list[str]:
    if not drift:
        return []
    if drift.get("error"):
        return [f"drift: not compared ({drift['error']})"]
    changes = drift["changes"]
    head = f"drift against the baseline: {len(changes)} change(s) over {drift['compared']} probes compared"
    return [head] + [f"{c['probe']} {c['field']}: {c['before']!r} -> {c['after']!r}" for c in changes]


# -- summary.json ---------------------------------------------------------------------------------
def to_json(run: dict) -> str:
    return json.dumps(run, indent=2, ensure_ascii=False, default=str) + "\n"


# -- summary.md -----------------------------------------------------------------------------------
def _md(text: Any, limit: int = 200) -> str:
    one = " ".join(str(text).split())
    one = one if len(one) <= limit else one[: limit - 1] + "…"
    return one.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _fence(text: str, lang: str = "") -> str:
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return f"{ticks}{lang}\n{text}\n{ticks}"


def to_markdown(run: dict) -> str:
    marks = {"passed": "✅", "failed": "❌", "incomplete": "⛔", "drift": "🔀", "interrupted": "✋"}
    marks["setup-problem"] = "⛔"
    head = f"{marks.get(run['result'], '❌')} {run['result']} (exit {run['exit_status']})"
    out = [f"## Update-event conformance: {head}", ""]
    if run["stopped"]:
        out += [f"**stopped: {_md(run['stopped'], 600)}**", ""]
    for v in run["versions"]:
        where = f"`{v['target']}`" + (" (bundled reference server)" if v["embedded"] else "")
        out.append(f"- **{v['version']}** {v['operation']} at {where}: {_stats_line(v)}")
        if v.get("restore"):
            r = v["restore"]
            out.append(f"  - designated event: {r['status']}" + (f" ({_md(r['why'], 400)})" if r.get("why") else ""))
            if r.get("original") is not None:
                original = json.dumps(r["original"], ensure_ascii=False)
                out.append(f"  - original values (journal `{_md(r['journal'])}`): `{_md(original, 400)}`")
    out.append(f"- seed: {_seed_text(run)}")
    dev = run["deviations"]
    if dev and dev.get("sets"):
        out.append(f"- known deviations: {', '.join(f'{k}: `{p}`' for k, p in dev['sets'].items())}")
        out += [f"- ⚠️ **stale known deviation {entry}**: the clause passed; remove the entry" for entry in dev["stale"]]
    needs = optional_inputs(run)
    gaps = [i for i in run["incomplete"] if i not in needs and i["version"] not in run["stopped_versions"]]
    if gaps:
        out += ["", "### Not exercised", ""]
        out += [f"- {i['version']}::{i['clause']}: {_md(i['why'])}" for i in gaps]
    if needs:
        out += [
            "",
            "Not exercised without optional inputs: "
            + "; ".join(f"{i['version']}::{i['clause']} ({_md(i['why'], 120)})" for i in needs),
        ]
    if run["budget_left_out"]:
        out += ["", "### Left out by the request budget", ""]
        out += [f"- {b['version']}::{b['clause']}: {_budget_text(b)}" for b in run["budget_left_out"]]
    drift = _drift_lines(run["drift"])
    if drift:
        out += ["", "### Drift", "", f"{drift[0]}", ""]
        if len(drift) > 1:
            out += ["| probe | field | before | after |", "|---|---|---|---|"]
            for c in run["drift"]["changes"]:
                out.append(f"| `{_md(c['probe'])}` | {c['field']} | `{_md(c['before'])}` | `{_md(c['after'])}` |")
    surface = observed.lines(run.get("observed") or {})
    if surface:
        out += ["", "### Contract surface observed", "", *[f"- {line}" for line in surface]]
    out += evidence_report.markdown(run)
    for section in run.get("sections") or []:  # what a command adds (the proxy's client readiness)
        out += ["", f"### {_md(section['title'])}", "", *[f"- {_md(line, 1000)}" for line in section["lines"]]]
    versions = [v["version"] for v in run["versions"]]
    totals = "; ".join(
        f"{v}: " + ", ".join(f"{MARKS[s]} {n} {s}" for s, n in run["totals"][v].items() if n) for v in versions
    )
    out += ["", f"Clauses: {totals}", ""]
    out.append("| clause | title | " + " | ".join(versions) + " | source | note |")
    out.append("|---" * (4 + len(versions)) + "|")
    for r in sorted(run["clauses"], key=_worst):
        cells = []
        for v in versions:
            c = r["versions"][v]
            cells.append(f"{MARKS[c['status']]} {c['status']} ({c['requests']} req)")
        note = next((_note(c) for c in r["versions"].values() if c["status"] in BAD), "")
        source = evidence_report.short(r.get("source", []))
        out.append(f"| {r['id']} | {_md(r['title'], 80)} | " + " | ".join(cells) + f" | {_md(source)} | {_md(note)} |")
    failures = _failures(run)
    if failures:
        out += ["", "### Failures and deviations"]
    for r, version, c in failures:
        out += ["", f"#### {version}::{r['id']} {_md(r['title'])}: {c['status']}", ""]
        if c.get("requirement"):
            out += [f"> {_md(c['requirement'], 1000)}", ""]
        if c["examples"]:
            out.append(_fence(_example_text(c["examples"][0])))
        out += [_fence(f"{e['test']}\n{e['summary']}") for e in c["errors"][:1]]
        if c.get("rerun"):
            out.append(_fence(c["rerun"], "sh"))
    return "\n".join(out) + "\n"


# -- junit.xml ------------------------------------------------------------------------------------
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: Any) -> str:
    """Text XML 1.0 can carry (control characters shown as \\xNN)."""
    return _XML_BAD.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def to_junit(run: dict) -> str:
    """One stable case per version and clause. A stopped run (or version) has one error case for the stop
    and no case for what it did not judge: a dashboard never counts a pass it did not earn."""
    cases = [(r, v, c) for r in run["clauses"] for v, c in r["versions"].items() if c["status"] != "not-judged"]
    if run["whole_run_stopped"]:
        stops = [("run", run["stopped"] or run["whole_run_stopped"])]
    else:
        stops = list(run["stopped_versions"].items())
    failures = sum(c["status"] in ("failed", "stale-deviation") for _, _, c in cases)
    skipped = sum(c["status"] not in ("failed", "stale-deviation", "passed") for _, _, c in cases)
    counts = {
        "tests": str(len(cases) + len(stops)),
        "failures": str(failures),
        "errors": str(len(stops)),
        "skipped": str(skipped),
    }
    time_s = str(run["duration_s"] or 0)
    root = ET.Element("testsuites", {"name": SUITE, **counts, "time": time_s})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts, "time": time_s})
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("result", run["result"]),
        ("seed", run["seed"] if run["seed"] is not None else "derandomized"),
        ("hypothesis_profile", run["hypothesis_profile"]),
        ("duration_s", run["duration_s"]),
        ("exit_status", run["exit_status"]),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _x(value)})
    for v in run["versions"]:
        stats = v.get("stats") or {}
        ET.SubElement(props, "property", {"name": f"{v['version']}.target", "value": _x(v["target"])})
        ET.SubElement(
            props, "property", {"name": f"{v['version']}.requests_sent", "value": _x(stats.get("requests_sent", 0))}
        )
    for where, line in stops:
        case = ET.SubElement(suite, "testcase", {"classname": f"conformance.{where}", "name": f"{where}::stopped"})
        ET.SubElement(case, "error", {"message": _x(f"stopped: {line}"), "type": "stopped"}).text = _x(line)
    for r, version, c in cases:
        # Stable names, `v4::UE-AUTH-01`: no seed, no data, so CI can track a clause over runs.
        case = ET.SubElement(
            suite, "testcase", {"classname": f"conformance.{version}.{r['area']}", "name": f"{version}::{r['id']}"}
        )
        status = c["status"]
        if status in BAD:
            tag = "skipped" if status == "known-deviation" else "failure"
            body = [f"{version}::{r['id']} [{r['level']}] {r['title']}: {c.get('requirement', '')}"]
            body += [_example_text(ex) for ex in c["examples"][:1]]
            body += [f"{e['test']}: {e['summary']}" for e in c["errors"][:1]]
            if c.get("rerun"):
                body.append(f"rerun: {c['rerun']}")
            message = c["examples"][0]["summary"] if c["examples"] and status == "failed" else _note(c)
            el = ET.SubElement(case, tag, {"message": _x(message), "type": status})
            el.text = _x("\n\n".join(body))
        elif status not in ("passed", "warning"):  # a SHOULD finding passes; the reports show it
            ET.SubElement(case, "skipped", {"message": _x("; ".join(c["skipped"]) or status)})
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- report.html ----------------------------------------------------------------------------------
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:90em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1.05em;margin:1.5em 0 .3em}
table{border-collapse:collapse;width:100%;table-layout:auto}th,td{border:1px solid #d0d7de;padding:.3em .5em;
vertical-align:top;overflow-wrap:anywhere}th{background:#f6f8fa;text-align:left}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;border:1px solid #d0d7de}
.s{font-weight:600;white-space:nowrap}.failed,.stale-deviation,.budget{color:#b42318}.known-deviation,.warning{color:#9a6700}
.passed{color:#1a7f37}.skipped,.not-run,.not-applicable{color:#656d76}.banner{padding:.6em 1em;border-radius:4px;
font-weight:600}.banner.passed{background:#dafbe1}.banner.bad{background:#ffebe9}td.note{max-width:40em}
section{border-top:1px solid #d0d7de;margin-top:1.5em}
"""


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pre(text: Any) -> str:
    return f"<pre>{_h(text)}</pre>"


def _html_example(ex: dict) -> str:
    out = [f"<dt>Violation</dt><dd>{_pre(ex.get('summary', ''))}</dd>"]
    req, resp = ex.get("request"), ex.get("response")
    if req:
        head = "\n".join(f"{k}: {v}" for k, v in req["headers"].items()) or "(no headers)"
        text = f"{req['method']} {req['url']}\n{head}\n\n{req.get('body') or '(no body)'}"
        out.append(f"<dt>Request</dt><dd>{_pre(text)}</dd>")
    if resp:
        if resp.get("error"):
            text = f"no response: {resp['error']}"
        else:
            head = "\n".join(f"{k}: {v}" for k, v in resp["headers"].items())
            took = f"after {resp['attempts']} attempt(s), {resp['elapsed_s']}s"
            text = f"{resp['status']} ({took})\n{head}\n\n{resp['body']}"
        out.append(f"<dt>Response</dt><dd>{_pre(text)}</dd>")
    if ex.get("curl"):
        out.append(f"<dt>Replay (with FPJS_API_KEY exported)</dt><dd>{_pre(ex['curl'])}</dd>")
    return "<dl>" + "".join(out) + "</dl>"


def to_html(run: dict) -> str:
    ok = run["result"] == "passed"
    versions = [v["version"] for v in run["versions"]]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(SUITE)}: {_h(run['result'])}</title><style>{CSS}</style></head><body>",
        f'<h1>Update-event conformance report</h1><p class="banner {"passed" if ok else "bad"}">'
        f"{_h(run['result'].upper())} (exit status {_h(run['exit_status'])})</p>",
        *([f'<p class="banner bad">stopped: {_h(run["stopped"])}</p>'] if run["stopped"] else []),
        "<table>",
    ]
    if run["stopped"]:
        out.append(f"<tr><th>Stopped</th><td>{_h(run['stopped'])}</td></tr>")
    for v in run["versions"]:
        where = _h(v["target"]) + (" (bundled reference server)" if v["embedded"] else "")
        restore = v.get("restore") or {}
        out.append(f"<tr><th>{_h(v['version'])}</th><td>{_h(v['operation'])} at {where}<br>{_h(_stats_line(v))}")
        out.append(f"<br>statuses: {_h(_statuses_text(v.get('stats') or {}))}")
        if restore:
            out.append(f"<br>designated event: {_h(restore['status'])} {_h(restore.get('why', ''))}")
        out.append("</td></tr>")
    out.append(f"<tr><th>Seed</th><td>{_h(_seed_text(run))}</td></tr>")
    out.append(f"<tr><th>Generated</th><td>{_h(run['generated_at'])} in {_h(run['duration_s'])}s</td></tr>")
    dev = run["deviations"]
    if dev and dev.get("sets"):
        stale = ", ".join(dev.get("stale", [])) or "none"
        names = ", ".join(f"{k}: {p}" for k, p in dev["sets"].items())
        out.append(f"<tr><th>Known deviations</th><td>{_h(names)}; stale: {_h(stale)}</td></tr>")
    opts = ", ".join(f"{k}={v}" for k, v in run["options"].items() if v not in (None, False, "", []))
    out.append(f"<tr><th>Options</th><td>{_h(opts or '(defaults)')}</td></tr></table>")
    if run["incomplete"]:
        out.append("<h2>Not exercised</h2><ul>")
        out += [f"<li>{_h(i['version'])}::{_h(i['clause'])}: {_h(i['why'])}</li>" for i in run["incomplete"]]
        out.append("</ul>")
    if run["budget_left_out"]:
        out.append("<h2>Left out by the request budget</h2><ul>")
        out += [
            f"<li>{_h(b['version'])}::{_h(b['clause'])}: {_h(_budget_text(b))}</li>" for b in run["budget_left_out"]
        ]
        out.append("</ul>")
    surface = observed.lines(run.get("observed") or {})
    if surface:
        out.append("<h2>Contract surface observed</h2><ul>")
        out += [f"<li>{_h(line)}</li>" for line in surface]
        out.append("</ul>")
    for section in run.get("sections") or []:  # what a command adds (the proxy's client readiness)
        out.append(f"<h2>{_h(section['title'])}</h2><ul>" + "".join(f"<li>{_h(x)}</li>" for x in section["lines"]))
        out.append("</ul>")
    drift = _drift_lines(run["drift"])
    if drift:
        out.append(f"<h2>Drift</h2><p>{_h(drift[0])}</p>")
        if run["drift"]["changes"]:
            out.append("<table><tr><th>Probe</th><th>Field</th><th>Before</th><th>After</th></tr>")
            for c in run["drift"]["changes"]:
                out.append(
                    f"<tr><td>{_h(c['probe'])}</td><td>{_h(c['field'])}</td><td><code>{_h(c['before'])}</code></td>"
                    f"<td><code>{_h(c['after'])}</code></td></tr>"
                )
            out.append("</table>")
    out.append("<h2>Clauses</h2><table><tr><th>Clause</th><th>Level</th><th>Title</th>")
    out.append("".join(f"<th>{_h(v)}</th>" for v in versions) + "<th>Source</th><th>Note</th></tr>")
    for r in sorted(run["clauses"], key=_worst):
        cells = []
        for v in versions:
            c = r["versions"][v]
            link = f'<a href="#{_h(v)}-{_h(r["id"])}">{_h(c["status"])}</a>' if c.get("rerun") else _h(c["status"])
            counts = f"{c['passed']} passed, {c['failed']} failed, {c['requests']} req"
            cells.append(f'<td class="s {_h(c["status"])}">{link}<br><small>{counts}</small></td>')
        note = next((_note(c) for c in r["versions"].values() if c["status"] in BAD), "")
        out.append(
            f"<tr><td>{_h(r['id'])}</td><td>{_h(r['level'])}</td><td>{_h(r['title'])}</td>"
            + "".join(cells)
            + f'<td>{_h(evidence_report.short(r.get("source", [])))}</td><td class="note">{_h(note[:400])}</td></tr>'
        )
    out += ["</table>", *evidence_report.html(run)]
    failures = _failures(run)
    if failures:
        out.append("<h2>Failures and deviations</h2>")
    for r, version, c in failures:
        out.append(f'<section id="{_h(version)}-{_h(r["id"])}"><h3>{_h(version)}::{_h(r["id"])} {_h(r["title"])}: ')
        out.append(f'<span class="{_h(c["status"])}">{_h(c["status"])}</span></h3>')
        out.append(f"<p><b>[{_h(r['level'])}]</b> {_h(c.get('requirement', ''))}</p>")
        if c.get("spec_pointer"):
            out.append(
                f"<p>From the {_h(version)} document at <code>{_h(c['spec_pointer'])}</code>:</p>{_pre(c['spec_text'])}"
            )
        if c.get("deviation"):
            d = c["deviation"]
            out.append(f"<p>Known deviation until {_h(d['expires'])}: {_h(d['reason'])} ({_h(d['link'])})</p>")
        for i, ex in enumerate(c["examples"]):
            opened = " open" if i == 0 else ""
            out.append(f"<details{opened}><summary>Example {i + 1} of {len(c['examples'])}</summary>")
            out.append(_html_example(ex) + "</details>")
        for err in c["errors"]:
            out.append(f"<p>Error in {_h(err['test'])}:</p>{_pre(err['summary'])}")
        if c.get("rerun"):
            out.append(f"<p>Rerun (seed: {_h(_seed_text(run))}):</p>{_pre(c['rerun'])}")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# -- the terminal ---------------------------------------------------------------------------------
def closing_lines(run) -> list[str]:
    """What the terminal says at the end besides pytest's own lines: gaps, budget, drift, and last, why it
    stopped (a stopped run lists no gaps: nothing after the stop line but pytest's count)."""
    lines = []
    if run.options.max_requests is not None or any(p.get("left_out") for p in run.plans.values()):
        for version, plan in run.plans.items():
            cut = len(plan["left_out"])
            if cut:
                total = plan["cases"]
                lines.append(
                    f"fpjs: INCOMPLETE [{version}]: the request budget left {cut} of {total} coverage cases unsent"
                )
    if not run.stopped:
        for version, target in run.targets.items():
            gaps, needs = [], []
            for cid in sorted(run.selected.get(version, set())):
                clause = clauses.get(cid)
                tally = target.ledger.clauses.get(cid)
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
    for i, line in enumerate(_drift_lines(run.drift)):
        lines.append(("fpjs: DRIFT: " if i == 0 else "fpjs:   ") + line)
    if run.stopped:
        lines.append(f"fpjs: STOPPED: {run.stopped}")
    return lines
