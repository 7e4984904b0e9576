"""What a replay shows: how each replayed answer differs from the recorded one (in the behaviour
snapshot's vocabulary, a read-back that differs named by its paths), the counts of what was re-sent,
left out and not sent, the notes, and replay.json / replay.md. Pure on the replay's plan, but writing."""

from __future__ import annotations

import base64
import json
from typing import Any

from fpjs_conformance import behaviour
from fpjs_conformance.model import Exchange, cut, printable

JSON_FILE, MD_FILE = "replay.json", "replay.md"
READ_BACK_CHECKS = ("stored_fields_match", "same_outcome")  # the checks a case's read-back is judged by


def read_back_detail(found: list) -> list[str]:
    """What the replayed read-back found, field by field: the paths that differ, or the check's finding."""
    out: list[str] = []
    for violation in found:
        if violation.check in READ_BACK_CHECKS:
            out += violation.differences or [f"{violation.clause_id}: {cut(violation.received, 120)}"]
    return list(dict.fromkeys(out))


def recorded_exchange(item: Any) -> Exchange:
    """The recorded answer, rebuilt from the HAR entry's response."""
    entry, meta = item.entry, item.meta
    response = entry.get("response") or {}
    content = response.get("content") or {}
    text = content.get("text") or ""
    body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8", "surrogatepass")
    headers = {h["name"]: h.get("value", "") for h in response.get("headers") or [] if isinstance(h, dict)}
    request = entry.get("request") or {}
    status = response.get("status") or None
    error = meta.get("error") or (None if status else "no response recorded")
    return Exchange(
        item.request,
        request.get("method", ""),
        request.get("url", ""),
        {},
        status=None if error else status,
        response_headers=headers,
        body=body,
        error=error,
        version=meta.get("version", ""),
    )


def differences(replay: Any) -> list[dict[str, Any]]:
    """Every field of the observable answer that differs between the recorded and the replayed answer."""
    rows = []
    for group in replay.groups:
        for item in group.items:
            base = {
                "entry": item.index,
                "kind": item.meta.get("kind"),
                "case": item.meta.get("case"),
                "version": group.version,
            }
            if item.sent is None:
                if group.done:  # the case went on without it (an earlier answer was not 200)
                    before = behaviour.observe(recorded_exchange(item), None).get("status")
                    rows.append(
                        {
                            **base,
                            "request": summary(item),
                            "field": "sent",
                            "before": before,
                            "after": "not sent (an earlier answer of the case was not 200)",
                        }
                    )
                continue
            # A case cut short (a stop, the budget) has no read-back outcome to compare: its answers are compared.
            was = behaviour.observe(recorded_exchange(item), item.read_back if group.done else None)
            now = behaviour.observe(item.sent, item.new_read_back if group.done else None)
            for name in sorted(set(was) | set(now)):
                if was.get(name) != now.get(name):
                    row = {**base, "request": summary(item), "field": name, "before": was.get(name)}
                    row["after"] = now.get(name)
                    if name == "read_back" and item.read_back_detail:
                        row["detail"] = item.read_back_detail  # where the replayed read-back differs
                    rows.append(row)
    return rows


def summary(item: Any) -> str:
    """The request in one line (as sent when it was: keys as ${FPJS_API_KEY})."""
    text = item.sent.describe_request() if item.sent is not None else repr(item.request)
    return printable(text)[:200]


def shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "(none)"
    return str(value)


def diff_line(row: dict[str, Any]) -> str:
    case = f" {row['case']}" if row["case"] else ""
    detail = f" ({cut('; '.join(row['detail']), 160)})" if row.get("detail") else ""
    return (
        f"fpjs: DIFF #{row['entry']} [{row['version']}] {row['kind']}{case}: {row['field']} "
        f"{shown(row['before'])} -> {shown(row['after'])}{detail} | {row['request'][:120]}"
    )


def _md(value: Any, limit: int = 160) -> str:
    text = printable(shown(value)).replace("|", "\\|").replace("`", "'")
    return text if len(text) <= limit else text[:limit] + "..."


def to_markdown(rows: list[dict[str, Any]], head: list[str], notes: list[str]) -> str:
    lines = ["# Replay", "", *head, ""]
    if notes:
        lines += [f"- {note}" for note in notes] + [""]
    if not rows:
        lines.append("No difference from the recorded answers.")
        return "\n".join(lines) + "\n"
    lines += [
        "| entry | version | kind | case | request | field | before | after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        after = shown(r["after"]) + (f" ({'; '.join(r['detail'])})" if r.get("detail") else "")
        lines.append(
            f"| {r['entry']} | {r['version']} | {r['kind']} | {_md(r['case'])} | {_md(r['request'], 100)} "
            f"| {r['field']} | {_md(r['before'])} | {_md(after, 300)} |"
        )
    return "\n".join(lines) + "\n"


def files(rows: list[dict], head: list[str], notes: list[str]) -> tuple[tuple[str, str], ...]:
    """replay.json and replay.md as (name, text), for `reporting.write_files` to write."""
    return (
        (JSON_FILE, json.dumps(rows, indent=1, ensure_ascii=False) + "\n"),
        (MD_FILE, to_markdown(rows, head, notes)),
    )


def replay_counts(replay: Any) -> dict[str, int]:
    """How the recorded updates went: re-sent, left out (the notes say why), or not sent because their
    case went on without them (a difference each); the three add up to the recorded ones."""
    return {
        "recorded": replay.recorded,
        "re_sent": sum(item.sent is not None for item in replay.items),
        "left_out": sum(replay.left_out.values()),
        "not_sent_in_case": sum(1 for g in replay.groups if g.done for item in g.items if item.sent is None),
    }


def counts_text(counts: dict[str, int]) -> str:
    text = f"{counts['re_sent']} of {counts['recorded']} recorded updates re-sent"
    if counts["left_out"]:
        text += f", {counts['left_out']} left out (see the notes)"
    if counts["not_sent_in_case"]:
        text += f", {counts['not_sent_in_case']} not sent (their case went on without them)"
    return text


def notes(replay: Any) -> list[str]:
    notes = [f"{n} recorded update(s) left out: {why}" for why, n in replay.left_out.items()]
    if replay.not_replayed:
        parts = ", ".join(f"{n} {what}" for what, n in sorted(replay.not_replayed.items()))
        notes.append(f"not re-sent (state, or the recorded run's own phases): {parts}")
    return notes
