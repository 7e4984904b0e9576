"""The evidence in the reports: what each clause and role rests on, the answers that passed only because
the vendor's own evidence allows them, the SHOULD findings, how long not-ready lasted, and the
intermediaries' pages that were retried.

`model(result)` is the data (summary.json's `evidence`, and each clause row's `source`); `markdown`,
`html` and `terminal` render it. The reports' own module (`reporting`) calls these and stays the
owner of the files, the scrubbing and the clause table.
"""

from __future__ import annotations

import html as _html
from collections import Counter
from typing import Any

from fpjs_conformance import evidence
from fpjs_conformance import profile as profiles

KIND_WORDS = {"document": "document", "rfc": "", "vendor": "vendor", "judgement": "the suite's judgement"}


def short(records: list[dict[str, str]]) -> str:
    """A clause's sources in a few words for a table cell: 'document; RFC 9110, 11.1; vendor x2'."""
    kinds = Counter(r["kind"] for r in records if r["kind"] not in ("rfc",))
    parts = [KIND_WORDS[k] + (f" x{n}" if n > 1 and k == "vendor" else "") for k, n in kinds.items()]
    parts[1:1] = [r["ref"] for r in records if r["kind"] == "rfc"]
    return "; ".join(dict.fromkeys(p for p in parts if p))


def _sources(found) -> list[dict[str, str]]:
    return [s.as_record() for s in found]


def model(run) -> dict[str, Any]:
    """Per version of a run's result (`result.RunResult`): each role's answers and sources, the answers allowed
    by evidence that came back, the vendor's aliases and the at-limit rule, how long not-ready lasted, the
    retried pages, the SHOULD findings."""
    out: dict[str, Any] = {"strict": bool(run.options.strict), "versions": {}}
    for version in run.options.versions:
        p = profiles.load(version)
        target = run.versions.get(version)
        stats = run.stats.get(version, {})
        seen = stats.get("statuses") or {}
        at = evidence.at_limit(p)
        out["versions"][version] = {
            "roles": {
                name: {
                    "answers": {str(s): sorted(c) if c else None for s, c in sorted(r.answers.items())},
                    "source": _sources(r.sources),
                }
                for name, r in p.roles.items()
            },
            "limits": {n: {"source": _sources(limit.sources)} for n, limit in p.limits.items()},
            "at_limit": {"role": at.role, "source": _sources(at.sources)} if at else None,
            "aliases": {
                a.name: {"field": a.field, "source": _sources(a.sources)} for a in evidence.aliases(p).values()
            },
            "allowed_by_evidence": [
                {"status": s, "role": r.name, "codes": sorted(r.answers[s] or ()), "seen": seen.get(str(s), 0)}
                for r in p.roles.values()
                for s in sorted(r.undeclared)
            ],
            "not_ready": {**(stats.get("not_ready") or {}), "budget_s": target.not_ready_budget} if target else None,
            "gateway": (run.transport_records.get(version) or {}).get("gateway", []),
            "should": list(target.warnings) if target else [],
        }
    return out


def lines(run: dict) -> list[str]:
    """The evidence section as plain lines (summary.md and the terminal share them)."""
    out = []
    for version, v in (run.get("evidence") or {}).get("versions", {}).items():
        for a in v["allowed_by_evidence"]:
            if a["seen"]:
                out.append(
                    f"{version}: {a['status']} {'/'.join(a['codes'])} came back {a['seen']}x, allowed only as the "
                    f"{a['role']} role's answer: the operation declares no {a['status']}, the vendor's own documents "
                    "pair them"
                )
        nr = v.get("not_ready") or {}
        if nr.get("writes"):
            out.append(
                f"{version}: not-ready lasted at most {nr['longest_s']:g}s ({nr['writes']} write(s), "
                f"{nr['total_s']:g}s in all; budget {nr['budget_s']:g}s per write)"
                + (f"; {nr['still_not_ready']} still not ready after the budget" if nr.get("still_not_ready") else "")
            )
        for g in v["gateway"]:
            how = "transient (retried, the retry answered)" if g["transient"] else "a failure (UE-RESP-02)"
            out.append(
                f"{version}: an intermediary's {g['status']} {g['media_type'] or ''} page, {how}: {g['request'][:160]}"
            )
        for w in v["should"]:
            why = w.get("deviation") or "; ".join(s["ref"] for s in w.get("source") or [])
            out.append(
                f"{version}: SHOULD {w['clause']} ({why}): expected {w['expected']}; received {w['received']}"[:600]
            )
    return out


def markdown(run: dict) -> list[str]:
    found = lines(run)
    if not found:
        return []
    strict = "fail the run (--strict)" if (run.get("evidence") or {}).get("strict") else "do not fail the run"
    head = f"### Evidence: what passed by evidence, waits, SHOULD findings (these {strict})"
    return ["", head, "", *[f"- {_md(line)}" for line in found]]


def html(run: dict) -> list[str]:
    found = lines(run)
    if not found:
        return []
    return (
        ["<h2>Evidence: what passed by evidence, waits, SHOULD findings</h2><ul>"]
        + [f"<li>{_html.escape(line)}</li>" for line in found]
        + ["</ul>"]
    )


def terminal(run) -> list[str]:
    """Lines for the end of a run (its `result.RunResult`): the SHOULD findings and the transient pages, counted."""
    out = []
    for version, target in run.versions.items():
        warned = len(target.warnings)
        if warned:
            out.append(
                f"fpjs [{version}]: {warned} SHOULD finding(s) (what rests on the suite's judgement, or a deviation "
                "the vendor's own evidence makes plausible): warnings, not failures without --strict; see the reports"
            )
    if run.pages_retried:
        failed = run.pages_failed
        kept = run.pages_retried - failed
        out.append(f"fpjs: {run.pages_retried} intermediary 5xx page(s) retried: {kept} transient, {failed} failed")
    return out


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
