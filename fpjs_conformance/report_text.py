"""What the rendered reports share: the statuses and their marks, and the text of a version's cost, an
example, a clause's note, the budget, the drift and the contract surface. Pure: the model in, text out."""

from __future__ import annotations

from typing import Any

from fpjs_conformance.model import cut

# Worst first: the order of the totals and of the failure sections.
STATUSES = (
    "failed",
    "stale-deviation",
    "known-deviation",
    "warning",
    "not-judged",
    "partly-judged",
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
    "partly-judged": "◐",
    "budget": "⛔",
    "skipped": "⏭️",
    "not-run": "▫️",
    "passed": "✅",
    "not-applicable": "—",
}


def stats_line(v: dict) -> str:
    s = v.get("stats") or {}
    plan = v.get("plan") or {}
    cover = f"{plan.get('sent', 0)}/{plan.get('cases', 0)} coverage cases, " if plan else ""
    return (
        f"{s.get('requests_sent', 0)} requests ({cover}{s.get('retries_429', 0)} 429 retries, "
        f"{s.get('retries_409', 0)} 409 retries, {s.get('transport_errors', 0)} transport errors, "
        f"peak {s.get('peak_requests_per_second', 0)}/s)"
    )


def seed_text(run: dict) -> str:
    if run["seed"] is None:
        return f"derandomized (profile {run['hypothesis_profile']})"
    return f"{run['seed']} (profile {run['hypothesis_profile']}; rerun with --hypothesis-seed={run['seed']})"


def statuses_text(stats: dict) -> str:
    return ", ".join(f"{k}: {n}" for k, n in (stats.get("statuses") or {}).items()) or "none"


def example_text(ex: dict) -> str:
    """An example as plain text: summary, request, response, replay line."""
    lines = [ex.get("summary", "")]
    if ex.get("differences"):
        lines.append("read-back differs: " + "; ".join(ex["differences"]))
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


def clause_note(cell: dict) -> str:
    """One line saying why a clause has its status in one version."""
    dev = cell.get("deviation")
    if cell["status"] == "stale-deviation":
        return f"listed as a known deviation but passed {cell['passed']}x without a violation: remove the entry"
    if cell.get("errors"):
        return cell["errors"][0]["summary"]
    if cell.get("examples"):
        ex = cell["examples"][0]
        if ex.get("differences"):
            text = "read-back differs: " + "; ".join(ex["differences"])
        else:
            text = f"expected {cut(ex['expected'])}; received {cut(ex['received'])}"
        return f"known deviation: {dev['reason']} — {text}" if dev else text
    if dev:
        return f"known deviation: {dev['reason']}"
    return "; ".join(cell["skipped"])


BAD = ("failed", "stale-deviation", "known-deviation")


def failed_cells(run: dict) -> list[tuple[dict, str, dict]]:
    """(clause row, version, cell) of every failed or listed clause, worst first."""
    out = [(r, v, c) for r in run["clauses"] for v, c in r["versions"].items() if c["status"] in BAD]
    return sorted(out, key=lambda t: BAD.index(t[2]["status"]))


def worst(row: dict) -> int:
    return min(STATUSES.index(c["status"]) for c in row["versions"].values())


def budget_text(b: dict) -> str:
    done = "exercised by the cases sent" if b["exercised"] else "not exercised"
    return f"{b['sent']} of {b['planned']} coverage cases sent before the request budget was spent; {done}"


def drift_lines(drift: dict | None) -> list[str]:
    if not drift:
        return []
    if drift.get("error"):
        return [f"drift: not compared ({drift['error']})"]
    changes = drift["changes"]
    head = f"drift against the baseline: {len(changes)} change(s) over {drift['compared']} probes compared"
    return [head] + [f"{c['probe']} {c['field']}: {c['before']!r} -> {c['after']!r}" for c in changes]


def optional_inputs(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The clauses left out because an optional input was not given (a neutral note, not a gap)."""
    return [i for i in model["incomplete"] if i["why"].startswith("needs ")]
