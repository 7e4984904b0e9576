"""Reports from the ledger: summary.json, summary.md, junit.xml and report.html.

All four render one plain model (`collect`), built from the ledger, the whole clause catalogue (so
a clause that was not exercised still shows), the run's statistics and the known-deviations state.
Every string in the model, and then every file's full text, passes the secret scrubber: a report
is uploaded as a CI artifact, so it is the last place a key may leak from.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
import shlex
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contracts import clauses, transport

SUITE = "fpjs-update-event-conformance"
NOT_RUN = "not exercised in this run"
# Worst first: the order of the totals and of the failure sections.
STATUSES = ("failed", "stale-deviation", "known-deviation", "passed", "skipped", "not-run")
MARKS = {
    "failed": "❌",
    "stale-deviation": "⚠️",
    "known-deviation": "🟡",
    "passed": "✅",
    "skipped": "⏭️",
    "not-run": "▫️",
}
_EMBEDDED = " (bundled reference server)"


def write_all(report_dir: Path, target, state: dict, exitstatus: int, secrets: list[str]) -> list[Path]:
    """Write the four reports into `report_dir`; the paths written."""
    scrub = scrubber(secrets)
    run = _deep(collect(target, state, exitstatus), scrub)
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, render in (
        ("summary.json", to_json),
        ("summary.md", to_markdown),
        ("junit.xml", to_junit),
        ("report.html", to_html),
    ):
        path = report_dir / name
        path.write_text(scrub(render(run)), encoding="utf-8")
        paths.append(path)
    return paths


# -- the model ------------------------------------------------------------------------------------
def clause_status(passed: int, failed: int, skipped: list[str], errors: list, listed: bool) -> str:
    """One word per clause; a listed clause is judged by whether it still breaks."""
    if errors:
        return "failed"
    if listed and failed:
        return "known-deviation"
    if listed and passed:
        return "stale-deviation"
    if failed:
        return "failed"
    if passed:
        return "passed"
    return "skipped" if skipped else "not-run"


def collect(target, state: dict, exitstatus: int) -> dict[str, Any]:
    """The run as plain data: what every report renders."""
    deviations = state.get("deviations") or {}
    listed = deviations.get("entries", {})
    options = state.get("options", {})
    seed = state.get("seed")
    stats = state.get("stats") or target.transport.stats.as_dict()
    started = state.get("started_at")
    rerun_base = _rerun_base(target, options, seed)
    rows = []
    for cid, clause in clauses.catalogue().items():
        tally = target.ledger.clauses.get(cid)
        passed, failed = (tally.passed, tally.failed) if tally else (0, 0)
        skipped = list(tally.skipped) if tally else []
        errors = state.get("errors", {}).get(cid, [])
        status = clause_status(passed, failed, skipped, errors, cid in listed)
        row: dict[str, Any] = {
            "id": cid,
            "area": clause.area,
            "level": clause.level,
            "title": clause.title,
            "requirement": clause.requirement,
            "status": status,
            "passed": passed,
            "failed": failed,
            "skipped": skipped or ([NOT_RUN] if status == "not-run" else []),
            "tests": sorted(tally.tests) if tally else [],
            "examples": list(tally.examples) if tally else [],
            "errors": errors,
            "deviation": listed.get(cid),
        }
        if status in ("failed", "known-deviation", "stale-deviation"):
            row["spec_pointer"] = clause.spec_pointer
            row["spec_text"] = clause.spec_text
            nodeids = state.get("failing_tests", {}).get(cid) or []
            selector = shlex.quote(nodeids[0]) if nodeids else f"-k {cid}"
            row["rerun"] = f"pytest {selector}{rerun_base}"
        rows.append(row)
    totals = Counter(r["status"] for r in rows)
    return {
        "suite": SUITE,
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": target.base_url,
        "embedded": target.embedded,
        "exit_status": int(exitstatus),
        "result": "passed" if int(exitstatus) == 0 else "failed",
        "duration_s": round(time.time() - started, 3) if started else stats.get("duration_s"),
        "seed": seed,
        "hypothesis_profile": options.get("hypothesis_profile"),
        "options": options,
        "deviations": {k: v for k, v in deviations.items() if k != "entries"} or None,
        "stats": stats,
        "totals": {s: totals.get(s, 0) for s in STATUSES},
        "clauses": rows,
    }


def _rerun_base(target, options: dict, seed) -> str:
    parts = []
    if not target.embedded:
        parts.append(f"--base-url={target.base_url}")
        if options.get("request_id"):
            parts.append(f"--request-id={options['request_id']}")
    profile = options.get("hypothesis_profile")
    if profile and profile != "default":
        parts.append(f"--hypothesis-profile={profile}")
    if seed is not None:
        parts.append(f"--hypothesis-seed={seed}")
    return "".join(" " + shlex.quote(p) for p in parts)


# -- secrets --------------------------------------------------------------------------------------
def scrubber(secrets: list[str]) -> Callable[[str], str]:
    """Replace every secret and its near-misses (one scrubber for the suite: `transport.scrub`)."""
    return functools.partial(transport.scrub, secrets=list(secrets))


def _deep(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): _deep(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_deep(v, scrub) for v in value]
    return value


# -- shared text ----------------------------------------------------------------------------------
def _stats_line(run: dict) -> str:
    s = run["stats"]
    return (
        f"{s.get('requests_sent', 0)} requests sent, {s.get('retries_429', 0)} 429 retries, "
        f"{s.get('retries_409', 0)} 409 retries, {s.get('transport_errors', 0)} transport errors, "
        f"peak {s.get('peak_requests_per_second', 0)}/s, duration {run['duration_s']}s"
    )


def _seed_text(run: dict) -> str:
    if run["seed"] is None:
        return f"derandomized (Hypothesis profile {run['hypothesis_profile'] or 'default'})"
    return f"{run['seed']} (Hypothesis profile {run['hypothesis_profile']}; rerun with --hypothesis-seed={run['seed']})"


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


def _note(row: dict) -> str:
    """One line saying why a clause has its status."""
    dev = row["deviation"]
    if row["status"] == "stale-deviation":
        return f"listed as a known deviation but passed {row['passed']}x without a violation: remove the entry"
    if row["errors"]:
        return row["errors"][0]["summary"]
    if row["examples"]:
        ex = row["examples"][0]
        text = f"expected {ex['expected']}; received {ex['received']}"
        return f"known deviation: {dev['reason']} — {text}" if dev else text
    if dev:
        return f"known deviation: {dev['reason']}"
    return "; ".join(row["skipped"])


def _failures(run: dict) -> list[dict]:
    bad = ("failed", "stale-deviation", "known-deviation")
    return sorted((r for r in run["clauses"] if r["status"] in bad), key=lambda r: bad.index(r["status"]))


# -- summary.json ---------------------------------------------------------------------------------
def to_json(run: dict) -> str:
    return json.dumps(run, indent=2, ensure_ascii=False, default=str) + "\n"


# -- summary.md -----------------------------------------------------------------------------------
def _cell(text: Any, limit: int = 200) -> str:
    one = " ".join(str(text).split())
    one = one if len(one) <= limit else one[: limit - 1] + "…"
    return one.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _fence(text: str, lang: str = "") -> str:
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return f"{ticks}{lang}\n{text}\n{ticks}"


def to_markdown(run: dict) -> str:
    head = "✅ passed" if run["result"] == "passed" else f"❌ failed (exit {run['exit_status']})"
    out = [
        f"## Update-event conformance: {head}",
        "",
        f"- target: `{run['target']}`{_EMBEDDED if run['embedded'] else ''}",
        f"- {_stats_line(run)}",
        f"- seed: {_seed_text(run)}",
    ]
    dev = run["deviations"]
    if dev and dev.get("profile"):
        out.append(f"- known deviations: profile `{dev['profile']}` ({dev.get('file', '')})")
        for entry in dev.get("stale", []):
            out.append(f"- ⚠️ **stale known deviation {entry}**: the clause passed; remove the entry")
    totals = ", ".join(f"{MARKS[s]} {n} {s}" for s, n in run["totals"].items() if n)
    out += [f"- clauses: {totals}", "", "| clause | title | status | passed | failed | note |", "|---" * 6 + "|"]
    for r in run["clauses"]:
        out.append(
            f"| {r['id']} | {_cell(r['title'], 80)} | {MARKS[r['status']]} {r['status']} "
            f"| {r['passed']} | {r['failed']} | {_cell(_note(r))} |"
        )
    failures = _failures(run)
    if failures:
        out += ["", "### Failures and deviations"]
    for r in failures:
        out += ["", f"#### {r['id']} {_cell(r['title'])}: {r['status']}", "", f"> {_cell(r['requirement'], 1000)}", ""]
        if r["examples"]:
            out.append(_fence(_example_text(r["examples"][0])))
        for err in r["errors"][:1]:
            out.append(_fence(f"{err['test']}\n{err['summary']}"))
        if r.get("rerun"):
            out.append(_fence(r["rerun"], "sh"))
    return "\n".join(out) + "\n"


# -- junit.xml ------------------------------------------------------------------------------------
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: Any) -> str:
    """Text XML 1.0 can carry (control characters shown as \\xNN)."""
    return _XML_BAD.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def to_junit(run: dict) -> str:
    t = run["totals"]
    failures = t["failed"] + t["stale-deviation"]
    skipped = t["skipped"] + t["not-run"] + t["known-deviation"]
    counts = {"tests": str(len(run["clauses"])), "failures": str(failures), "errors": "0", "skipped": str(skipped)}
    time_s = str(run["duration_s"] or 0)
    root = ET.Element("testsuites", {"name": SUITE, **counts, "time": time_s})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts, "time": time_s})
    props = ET.SubElement(suite, "properties")
    stats = run["stats"]
    for name, value in (
        ("target", run["target"]),
        ("seed", run["seed"] if run["seed"] is not None else "derandomized"),
        ("hypothesis_profile", run["hypothesis_profile"] or "default"),
        ("requests_sent", stats.get("requests_sent", 0)),
        ("retries_429", stats.get("retries_429", 0)),
        ("retries_409", stats.get("retries_409", 0)),
        ("duration_s", run["duration_s"]),
        ("exit_status", run["exit_status"]),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _x(value)})
    for r in run["clauses"]:
        name = _x(f"{r['id']} {r['title']}")  # stable: no seed, no data, so CI can track a clause over runs
        case = ET.SubElement(suite, "testcase", {"classname": f"conformance.{r['area']}", "name": name})
        status = r["status"]
        if status in ("failed", "stale-deviation", "known-deviation"):
            tag = "skipped" if status == "known-deviation" else "failure"
            body = [f"clause {r['id']} [{r['level']}]: {r['requirement']}"]
            body += [_example_text(ex) for ex in r["examples"][:1]]
            body += [f"{e['test']}: {e['summary']}" for e in r["errors"][:1]]
            if r.get("rerun"):
                body.append(f"rerun: {r['rerun']}")
            message = r["examples"][0]["summary"] if r["examples"] and status == "failed" else _note(r)
            el = ET.SubElement(case, tag, {"message": _x(message), "type": status})
            el.text = _x("\n\n".join(body))
        elif status in ("skipped", "not-run"):
            ET.SubElement(case, "skipped", {"message": _x("; ".join(r["skipped"]))})
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- report.html ----------------------------------------------------------------------------------
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:80em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1.05em;margin:1.5em 0 .3em}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.3em .5em;vertical-align:top}
th{background:#f6f8fa;text-align:left}pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;
word-break:break-all;border:1px solid #d0d7de}.s{font-weight:600;white-space:nowrap}
.failed,.stale-deviation{color:#b42318}.known-deviation{color:#9a6700}.passed{color:#1a7f37}
.skipped,.not-run{color:#656d76}.banner{padding:.6em 1em;border-radius:4px;font-weight:600}
.banner.passed{background:#dafbe1}.banner.failed{background:#ffebe9}dt{font-weight:600;margin-top:.6em}
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
        body = req.get("body") or "(no body)"
        text = f"{req['method']} {req['url']}\n{head}\n\n{body}"
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
    banner = "passed" if run["result"] == "passed" else "failed"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(SUITE)}: {_h(banner)}</title><style>{CSS}</style></head><body>",
        f'<h1>Update-event conformance report</h1><p class="banner {banner}">{_h(banner.upper())} '
        f"(exit status {_h(run['exit_status'])})</p>",
        "<table>",
        f"<tr><th>Target</th><td>{_h(run['target'])}{_EMBEDDED if run['embedded'] else ''}</td></tr>",
        f"<tr><th>Run</th><td>{_h(_stats_line(run))}</td></tr>",
        f"<tr><th>Seed</th><td>{_h(_seed_text(run))}</td></tr>",
        f"<tr><th>Statuses</th><td>{_h(json.dumps(run['stats'].get('statuses', {})))}</td></tr>",
        f"<tr><th>Generated</th><td>{_h(run['generated_at'])}</td></tr>",
    ]
    dev = run["deviations"]
    if dev and dev.get("profile"):
        stale = ", ".join(dev.get("stale", [])) or "none"
        out.append(f"<tr><th>Known deviations</th><td>profile {_h(dev['profile'])}; stale: {_h(stale)}</td></tr>")
    opts = ", ".join(f"{k}={v}" for k, v in run["options"].items() if v not in (None, False, ""))
    out.append(f"<tr><th>Options</th><td>{_h(opts or '(defaults)')}</td></tr></table>")
    out.append("<h2>Clauses</h2><table><tr><th>Clause</th><th>Level</th><th>Title</th><th>Status</th>")
    out.append("<th>Passed</th><th>Failed</th><th>Note</th></tr>")
    for r in run["clauses"]:
        cid = r["id"]
        link = f'<a href="#{_h(cid)}">{_h(cid)}</a>' if r.get("rerun") else _h(cid)
        out.append(
            f"<tr><td>{link}</td><td>{_h(r['level'])}</td><td>{_h(r['title'])}</td>"
            f'<td class="s {_h(r["status"])}">{_h(r["status"])}</td><td>{r["passed"]}</td><td>{r["failed"]}</td>'
            f"<td>{_h(_note(r))}</td></tr>"
        )
    out.append("</table>")
    failures = _failures(run)
    if failures:
        out.append("<h2>Failures and deviations</h2>")
    for r in failures:
        out.append(f'<section id="{_h(r["id"])}"><h3>{_h(r["id"])} {_h(r["title"])}: ')
        out.append(f'<span class="{_h(r["status"])}">{_h(r["status"])}</span></h3>')
        out.append(f"<p><b>[{_h(r['level'])}]</b> {_h(r['requirement'])}</p>")
        out.append(f"<p>From the document at <code>{_h(r['spec_pointer'])}</code>:</p>{_pre(r['spec_text'])}")
        if r["deviation"]:
            d = r["deviation"]
            out.append(f"<p>Known deviation until {_h(d['expires'])}: {_h(d['reason'])} ({_h(d['link'])})</p>")
        for i, ex in enumerate(r["examples"]):
            opened = " open" if i == 0 else ""
            out.append(f"<details{opened}><summary>Example {i + 1} of {len(r['examples'])}</summary>")
            out.append(_html_example(ex) + "</details>")
        for err in r["errors"]:
            out.append(f"<p>Error in {_h(err['test'])}:</p>{_pre(err['summary'])}")
        out.append(f"<p>Rerun (seed: {_h(_seed_text(run))}):</p>{_pre(r['rerun'])}</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
