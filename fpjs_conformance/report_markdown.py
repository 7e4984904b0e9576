"""summary.md, for `$GITHUB_STEP_SUMMARY`: the run's head, its gaps, drift and surface, a row per clause,
and the failures with an example each."""

from __future__ import annotations

import json
import re
from typing import Any

from fpjs_conformance import evidence_report, observed
from fpjs_conformance.report_text import (
    BAD,
    MARKS,
    budget_text,
    clause_note,
    drift_lines,
    example_text,
    failed_cells,
    optional_inputs,
    seed_text,
    stats_line,
    worst,
)


def _md(text: Any, limit: int = 200) -> str:
    one = " ".join(str(text).split())
    one = one if len(one) <= limit else one[: limit - 1] + "…"
    return one.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _fence(text: str, lang: str = "") -> str:
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return f"{ticks}{lang}\n{text}\n{ticks}"


def to_markdown(run: dict) -> str:
    marks = {"passed": "✅", "failed": "❌", "incomplete": "⛔", "drift": "🔀", "interrupted": "✋"}
    marks["setup-problem"], marks["partial"] = "⛔", "◐"
    head = f"{marks.get(run['result'], '❌')} {run['result']} (exit {run['exit_status']})"
    out = [f"## Update-event conformance: {head}", ""]
    for version, left in (run.get("narrowed") or {}).items():
        out += [
            f"**partial ({version}): {len(left)} clause(s) not selected; the clauses every response informs saw "
            "only the selected clauses' requests (◐ partly-judged)**",
            "",
        ]
    if run["stopped"]:
        out += [f"**stopped: {_md(run['stopped'], 600)}**", ""]
    for v in run["versions"]:
        where = f"`{v['target']}`" + (" (bundled reference server)" if v["embedded"] else "")
        out.append(f"- **{v['version']}** {v['operation']} at {where}: {stats_line(v)}")
        if v.get("restore"):
            r = v["restore"]
            out.append(f"  - designated event: {r['status']}" + (f" ({_md(r['why'], 400)})" if r.get("why") else ""))
            if r.get("original") is not None:
                original = json.dumps(r["original"], ensure_ascii=False)
                out.append(f"  - original values (journal `{_md(r['journal'])}`): `{_md(original, 400)}`")
    out.append(f"- seed: {seed_text(run)}")
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
        out += [f"- {b['version']}::{b['clause']}: {budget_text(b)}" for b in run["budget_left_out"]]
    drift = drift_lines(run["drift"])
    if drift:
        out += ["", "### Drift", "", f"{drift[0]}", ""]
        if len(drift) > 1:
            out += ["| probe | field | before | after |", "|---|---|---|---|"]
            for c in run["drift"]["changes"]:
                out.append(f"| `{_md(c['probe'])}` | {c['field']} | `{_md(c['before'])}` | `{_md(c['after'])}` |")
    surface = observed.lines(run.get("observed") or {})
    if surface:
        out += ["", "### Contract surface observed", "", *[f"- {line}" for line in surface]]
    for section in run.get("sections") or []:  # what a command adds (the proxy's client readiness)
        out += ["", f"### {_md(section['title'])}", "", *[f"- {_md(line, 1000)}" for line in section["lines"]]]
    out += evidence_report.markdown(run)
    versions = [v["version"] for v in run["versions"]]
    totals = "; ".join(
        f"{v}: " + ", ".join(f"{MARKS[s]} {n} {s}" for s, n in run["totals"][v].items() if n) for v in versions
    )
    out += ["", f"Clauses: {totals}", ""]
    out.append("| clause | title | " + " | ".join(versions) + " | source | note |")
    out.append("|---" * (4 + len(versions)) + "|")
    for r in sorted(run["clauses"], key=worst):
        cells = []
        for v in versions:
            c = r["versions"][v]
            cells.append(f"{MARKS[c['status']]} {c['status']} ({c['requests']} req)")
        note = next((clause_note(c) for c in r["versions"].values() if c["status"] in BAD), "")
        source = evidence_report.short(r.get("source", []))
        out.append(f"| {r['id']} | {_md(r['title'], 80)} | " + " | ".join(cells) + f" | {_md(source)} | {_md(note)} |")
    found = failed_cells(run)
    if found:
        out += ["", "### Failures and deviations"]
    for r, version, c in found:
        out += ["", f"#### {version}::{r['id']} {_md(r['title'])}: {c['status']}", ""]
        if c.get("requirement"):
            out += [f"> {_md(c['requirement'], 1000)}", ""]
        if c["examples"]:
            out.append(_fence(example_text(c["examples"][0])))
        out += [_fence(f"{e['test']}\n{e['summary']}") for e in c["errors"][:1]]
        if c.get("rerun"):
            out.append(_fence(c["rerun"], "sh"))
    return "\n".join(out) + "\n"
