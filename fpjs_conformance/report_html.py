"""report.html: one self-contained page, failed clauses first, every example with its replay line."""

from __future__ import annotations

import html
from typing import Any

from fpjs_conformance import evidence_report, observed
from fpjs_conformance.report_text import (
    BAD,
    budget_text,
    clause_note,
    drift_lines,
    failed_cells,
    seed_text,
    stats_line,
    statuses_text,
    worst,
)

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:90em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1.05em;margin:1.5em 0 .3em}
table{border-collapse:collapse;width:100%;table-layout:auto}th,td{border:1px solid #d0d7de;padding:.3em .5em;
vertical-align:top;overflow-wrap:anywhere}th{background:#f6f8fa;text-align:left}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;border:1px solid #d0d7de}
.s{font-weight:600;white-space:nowrap}.failed,.stale-deviation,.budget{color:#b42318}.known-deviation,.warning{color:#9a6700}
.passed{color:#1a7f37}.skipped,.not-run,.not-applicable,.partly-judged{color:#656d76}
.banner{padding:.6em 1em;border-radius:4px;font-weight:600}
.banner.passed{background:#dafbe1}.banner.bad{background:#ffebe9}td.note{max-width:40em}
section{border-top:1px solid #d0d7de;margin-top:1.5em}
"""


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pre(text: Any) -> str:
    return f"<pre>{_h(text)}</pre>"


def _html_example(ex: dict) -> str:
    out = [f"<dt>Violation</dt><dd>{_pre(ex.get('summary', ''))}</dd>"]
    if ex.get("differences"):
        out.append(f"<dt>Read-back differs</dt><dd>{_pre(chr(10).join(ex['differences']))}</dd>")
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
        f"<title>{_h(run['suite'])}: {_h(run['result'])}</title><style>{CSS}</style></head><body>",
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
        out.append(f"<tr><th>{_h(v['version'])}</th><td>{_h(v['operation'])} at {where}<br>{_h(stats_line(v))}")
        out.append(f"<br>statuses: {_h(statuses_text(v.get('stats') or {}))}")
        if restore:
            out.append(f"<br>designated event: {_h(restore['status'])} {_h(restore.get('why', ''))}")
        out.append("</td></tr>")
    out.append(f"<tr><th>Seed</th><td>{_h(seed_text(run))}</td></tr>")
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
        out += [f"<li>{_h(b['version'])}::{_h(b['clause'])}: {_h(budget_text(b))}</li>" for b in run["budget_left_out"]]
        out.append("</ul>")
    surface = observed.lines(run.get("observed") or {})
    if surface:
        out.append("<h2>Contract surface observed</h2><ul>")
        out += [f"<li>{_h(line)}</li>" for line in surface]
        out.append("</ul>")
    for section in run.get("sections") or []:  # what a command adds (the proxy's client readiness)
        out.append(f"<h2>{_h(section['title'])}</h2><ul>" + "".join(f"<li>{_h(x)}</li>" for x in section["lines"]))
        out.append("</ul>")
    drift = drift_lines(run["drift"])
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
    for r in sorted(run["clauses"], key=worst):
        cells = []
        for v in versions:
            c = r["versions"][v]
            link = f'<a href="#{_h(v)}-{_h(r["id"])}">{_h(c["status"])}</a>' if c.get("rerun") else _h(c["status"])
            counts = f"{c['passed']} passed, {c['failed']} failed, {c['requests']} req"
            cells.append(f'<td class="s {_h(c["status"])}">{link}<br><small>{counts}</small></td>')
        note = next((clause_note(c) for c in r["versions"].values() if c["status"] in BAD), "")
        out.append(
            f"<tr><td>{_h(r['id'])}</td><td>{_h(r['level'])}</td><td>{_h(r['title'])}</td>"
            + "".join(cells)
            + f'<td>{_h(evidence_report.short(r.get("source", [])))}</td><td class="note">{_h(note[:400])}</td></tr>'
        )
    out += ["</table>", *evidence_report.html(run)]
    found = failed_cells(run)
    if found:
        out.append("<h2>Failures and deviations</h2>")
    for r, version, c in found:
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
            out.append(f"<p>Rerun (seed: {_h(seed_text(run))}):</p>{_pre(c['rerun'])}")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
