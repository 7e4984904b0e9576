"""Changes between two API versions, as found: tallied by kind and item, with how many exchanges each
touches and one example. The migrate report lists them (`fpjs_conformance.migrate`), and so does the
proxy's summary for a client of a version with a successor (`readiness`): the same kinds, the same names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance import migration, model


@dataclass
class Seen:
    side: str
    kind: str
    item: str
    documented: bool
    count: int = 0
    example: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tally:
    """Changes found, each (kind, item) counted once per exchange, with its first example."""

    rows: dict[tuple[str, str, str], Seen] = field(default_factory=dict)

    def add(self, side: str, kind: str, item: str, documented: bool, example: dict[str, Any]) -> None:
        seen = self.rows.setdefault((side, kind, item), Seen(side, kind, item, documented, example=example))
        seen.count += 1

    def kinds(self, *, side: str | None = None, documented: bool | None = None) -> list[dict[str, Any]]:
        """Per kind: how many exchanges it touches, one example, and its items with their counts."""
        out: dict[str, dict[str, Any]] = {}
        for s in self.rows.values():
            if (side is not None and s.side != side) or (documented is not None and s.documented != documented):
                continue
            kind = out.setdefault(
                s.kind,
                {
                    "kind": s.kind,
                    "side": s.side,
                    "documented": s.documented,
                    "count": 0,
                    "example": s.example,
                    "items": [],
                },
            )
            kind["count"] += s.count
            kind["items"].append({"item": s.item, "count": s.count, "example": s.example})
        return list(out.values())


def readiness(records: Iterable[Any], version: str) -> dict[str, Any] | None:
    """What a client of `version` must change before its successor, from the updates it sent through the proxy
    (traffic records) and the answers they got: the client-side kinds of change, as the migrate report names
    them, counted, one example each. None when no version succeeds `version`."""
    nxt = migration.successor(version)
    if nxt is None:
        return None
    m = migration.load(nxt)
    tally, updates, needing = Tally(), 0, 0
    for record in records:
        ex = record.exchange
        if ex.request.op != model.UPDATE or record.version != version:
            continue
        updates += 1
        found = migration.client_changes(m, ex.request)
        found += migration.answer_changes(m, ex.status, ex.response_headers, ex.error_code())
        needing += bool(found)
        example = {"request": ex.describe_request()[:300], "answer": ex.received()[:160]}
        for kind, item in found:
            tally.add(m.differences[kind].side, kind, item, True, example)
    return {
        "from": version,
        "to": nxt,
        "computed": True,
        "updates": updates,
        "needing_change": needing,
        "changes": tally.kinds(),
        "guide": m.guide,
    }


def readiness_report(run: Any) -> dict[str, Any]:
    """What a proxy session's summary adds for clients of a version with a successor: `client_readiness` (the
    data) and a section of lines (summary.md, report.html, the terminal); nothing for the newest version. A
    session that kept no traffic (--no-traffic) says it could not tell, never that nothing must change."""
    version = run.options.versions[0]
    nxt = migration.successor(version)
    if nxt is None:
        return {}
    title = f"Client readiness for {nxt}"
    if not run.traffic.enabled:
        why = "the traffic was not kept (--no-traffic)"
        data = {"from": version, "to": nxt, "computed": False, "why": why}
        return {"client_readiness": data, "sections": [{"title": title, "lines": [f"not computed: {why}"]}]}
    data = readiness(run.traffic.records, version) or {}
    lines = [f"before {nxt}: {data['needing_change']} of {data['updates']} {version} update(s) need a client change"]
    for kind in data["changes"]:
        for item in kind["items"]:
            lines.append(f"{kind['kind']} {item['item']}: {item['count']} update(s), e.g. {item['example']['request']}")
    if data.get("guide"):
        lines.append(f"the vendor's migration guide: {data['guide']}")
    return {"client_readiness": data, "sections": [{"title": title, "lines": lines}]}
