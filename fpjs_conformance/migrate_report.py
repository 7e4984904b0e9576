"""The migration report (`fpjs-conformance migrate`), from its data: `migrate.json`, `migrate.md`,
`migrate.html`, and the terminal's lines. Every text is scrubbed where it is written."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from fpjs_conformance import report_html, reporting
from fpjs_conformance.model import printable

JSON_FILE, MD_FILE, HTML_FILE = "migrate.json", "migrate.md", "migrate.html"
SECTIONS = (
    ("client", "What the client must change"),
    ("server", "What the same request gets now"),
    ("unexpected", "Unexpected changes (no profile documents them)"),
)


def _one(value: Any, limit: int = 200) -> str:
    text = " ".join(printable(str(value)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def example_text(data: dict[str, Any], example: dict[str, Any]) -> str:
    """An example exchange in one line: the entry, the request under each version, the answers in meaning."""
    parts = [f"entry #{example.get('entry')}" + (f" ({example['case']})" if example.get("case") else "")]
    for version in (data["from"], data["to"]):
        if example.get(version):
            parts.append(f"{version}: {example[version]}")
    answers = " -> ".join(a for a in (example.get("before"), example.get("after")) if a)
    if answers:
        parts.append(f"answered {answers}")
    return "; ".join(parts)


def lines(data: dict[str, Any], shown: int) -> list[str]:
    """The terminal's account: a line per kind of change (with an example for an unexpected one), a line per
    reason an update was not migrated."""
    out = []
    for key, _title in SECTIONS:
        for kind in data[key][:shown]:
            items = "; ".join(f"{i['item']} ({i['count']})" for i in kind["items"])
            line = f"fpjs: {key.upper()} {kind['kind']} ({kind['count']} update(s)): {items}"
            if key == "unexpected":
                line += f" | e.g. {example_text(data, kind['example'])}"
            out.append(_one(line, 600))
    for row in data["not_migrated"]:
        out.append(f"fpjs: NOT MIGRATED ({row['count']}, first entry #{row['entry']}): {row['why']}")
    out += [f"fpjs: {note}" for note in data["notes"]]
    return out


def closing(data: dict[str, Any], status: int) -> str:
    u = data["updates"]
    kinds = {key: ", ".join(k["kind"] for k in data[key]) or "none" for key, _ in SECTIONS}
    violated = data["violated"]
    return (
        f"fpjs: migrate {data['from']} -> {data['to']}: {u['sent']} of {u['migrated']} mapped update(s) sent, "
        f"{u['not_migrated']} not migrated; client changes: {kinds['client']}; server changes: {kinds['server']}; "
        f"unexpected: {kinds['unexpected']}; {len(violated)} clause(s) violated"
        f"{': ' + ', '.join(violated) if violated else ''}; result {reporting.RESULTS.get(status, 'failed')} "
        f"(exit {status})"
    )


# -- migrate.md ---------------------------------------------------------------------------------------------
def _md(value: Any, limit: int = 300) -> str:
    return _one(value, limit).replace("|", "\\|").replace("<", "&lt;").replace("`", "'")


def _head(data: dict[str, Any]) -> list[str]:
    u = data["updates"]
    return [
        f"Migration of `{_md(data['har'])}` ({data['from']}) to {data['to']} against {_md(data['target'])}: "
        f"**{data['result']}** (exit {data['exit_status']}).",
        f"{u['sent']} of {u['migrated']} mapped {data['from']} update(s) sent; {u['not_migrated']} not migrated. "
        f"Clauses the {data['to']} answers violated: {', '.join(data['violated']) or 'none'}.",
    ] + ([f"The vendor's migration guide: {data['guide']}"] if data.get("guide") else [])


def _source(name: str, where: str, quote: str) -> str:
    return f"{name}: {where}" if quote == where else f"{name}: {where} ({_one(quote, 240)})"


def to_markdown(data: dict[str, Any]) -> str:
    out = [f"# Moving from {data['from']} to {data['to']}", "", *_head(data)]
    for key, title in SECTIONS:
        out += ["", f"## {title}", ""]
        if not data[key]:
            out.append("None.")
            continue
        out += ["| kind | change | updates | example |", "|---|---|---|---|"]
        for kind in data[key]:
            for item in kind["items"]:
                example = _md(example_text(data, item["example"]), 400)
                out.append(f"| {kind['kind']} | {_md(item['item'])} | {item['count']} | {example} |")
    out += ["", "## Not migrated", ""]
    if data["not_migrated"]:
        out += ["| why | updates | first entry |", "|---|---|---|"]
        out += [f"| {_md(r['why'])} | {r['count']} | #{r['entry']} |" for r in data["not_migrated"]]
    else:
        out.append("Every recorded update was migrated.")
    if data["notes"]:
        out += ["", *[f"- {_md(n, 600)}" for n in data["notes"]]]
    out += ["", "## The documented differences (from the two profiles)", ""]
    out += ["| kind | side | change | source |", "|---|---|---|---|"]
    for d in data["differences"]:
        change = "; ".join(f"{i['item'] + ': ' if i['item'] else ''}{i['before']} -> {i['after']}" for i in d["items"])
        source = "; ".join(_source(k, v, d["quotes"][k]) for k, v in d["sources"].items())
        out.append(f"| {d['kind']} | {d['side']} | {_md(change, 600)} | {_md(source, 600)} |")
    return "\n".join(out) + "\n"


# -- migrate.html -------------------------------------------------------------------------------------------
def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def to_html(data: dict[str, Any]) -> str:
    title = f"Moving from {data['from']} to {data['to']}"
    ok = data["result"] == "passed"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_h(title)}: {_h(data['result'])}</title><style>{report_html.CSS}</style></head><body>",
        f"<h1>{_h(title)}</h1>",
        f'<p class="banner {"passed" if ok else "bad"}">{_h(data["result"].upper())} '
        f"(exit {_h(data['exit_status'])})</p>",
        *[f"<p>{_h(line.replace('**', '').replace('`', ''))}</p>" for line in _head(data)],
    ]
    for key, heading in SECTIONS:
        out.append(f"<h2>{_h(heading)}</h2>")
        if not data[key]:
            out.append("<p>None.</p>")
            continue
        out.append("<table><tr><th>Kind</th><th>Change</th><th>Updates</th><th>Example</th></tr>")
        for kind in data[key]:
            for item in kind["items"]:
                out.append(
                    f"<tr><td>{_h(kind['kind'])}</td><td>{_h(item['item'])}</td><td>{item['count']}</td>"
                    f"<td><code>{_h(example_text(data, item['example']))}</code></td></tr>"
                )
        out.append("</table>")
    out.append("<h2>Not migrated</h2>")
    if data["not_migrated"]:
        out.append("<table><tr><th>Why</th><th>Updates</th><th>First entry</th></tr>")
        out += [
            f"<tr><td>{_h(r['why'])}</td><td>{r['count']}</td><td>#{_h(r['entry'])}</td></tr>"
            for r in data["not_migrated"]
        ]
        out.append("</table>")
    else:
        out.append("<p>Every recorded update was migrated.</p>")
    out += [f"<p>{_h(note)}</p>" for note in data["notes"]]
    out.append("<h2>The documented differences (from the two profiles)</h2>")
    out.append("<table><tr><th>Kind</th><th>Side</th><th>Change</th><th>Source</th></tr>")
    for d in data["differences"]:
        change = "<br>".join(
            _h(f"{i['item'] + ': ' if i['item'] else ''}{i['before']} -> {i['after']}") for i in d["items"]
        )
        source = "".join(
            f"<p><b>{_h(k)}</b> <code>{_h(v)}</code></p><pre>{_h(d['quotes'][k][:600])}</pre>"
            for k, v in d["sources"].items()
        )
        out.append(f"<tr><td>{_h(d['kind'])}</td><td>{_h(d['side'])}</td><td>{change}</td><td>{source}</td></tr>")
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def write(report_dir: Path, data: dict[str, Any], secrets: list[str]) -> list[Path]:
    """The three files, written (and scrubbed) by the reports' one writer; their paths."""
    files = (
        (JSON_FILE, json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n"),
        (MD_FILE, to_markdown(data)),
        (HTML_FILE, to_html(data)),
    )
    return reporting.write_files(report_dir, files, secrets)
