"""The behaviour snapshot: what the target answered to each deterministic probe, and drift between runs.

A nightly gate that only sees violations misses changes that stay inside the contract but still
break clients: `{}` switching between 400 and 200, a code moving within the codes its status
allows, a new response header, `Retry-After` disappearing, a field coming back normalized. Each
coverage case is a probe with a stable id; its record is the observable answer (status, code,
media type, the names of the response headers, the read-back outcome), never messages or timings.
`compare` lists every change between an earlier snapshot and this run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fpjs_conformance.model import Exchange

FORMAT = "fpjs-behaviour/1"
# Headers whose presence says nothing about behaviour (framing, the clock, the connection).
VOLATILE_HEADERS = frozenset({"date", "content-length", "transfer-encoding", "connection", "keep-alive", "age"})


def observe(ex: Exchange, read_back: str | None) -> dict[str, Any]:
    """The observable answer to one probe."""
    if ex.error:
        return {"status": None, "answer": "no response"}
    record: dict[str, Any] = {
        "status": ex.status,
        "code": ex.error_code(),
        "content_type": ex.media_type or None,
        "headers": sorted(h for h in ex.response_headers if h not in VOLATILE_HEADERS),
    }
    if read_back is not None:
        record["read_back"] = read_back
    return record


def snapshot(probes: dict[str, dict[str, dict[str, Any]]], observations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The file written as reports/behaviour.json: version -> probe id -> record."""
    return {"format": FORMAT, "versions": probes, "observations": observations}


def load(path: Path) -> dict[str, Any]:
    """An earlier snapshot; ValueError with one line when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"--baseline {path}: cannot read a behaviour snapshot ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"--baseline {path}: not a behaviour snapshot (expected format {FORMAT})")
    return data


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Every change from `before` to `after`: per probe and field, the value before and after."""
    changes: list[dict[str, Any]] = []
    compared = 0
    only_before: list[str] = []
    only_after: list[str] = []
    old_versions, new_versions = before.get("versions", {}), after.get("versions", {})
    for version in sorted(set(old_versions) & set(new_versions)):
        old, new = old_versions[version], new_versions[version]
        only_before += [f"{version}::{p}" for p in sorted(set(old) - set(new))]
        only_after += [f"{version}::{p}" for p in sorted(set(new) - set(old))]
        for probe in sorted(set(old) & set(new)):
            compared += 1
            for name in sorted(set(old[probe]) | set(new[probe])):
                was, now = old[probe].get(name), new[probe].get(name)
                if was != now:
                    changes.append({"probe": f"{version}::{probe}", "field": name, "before": was, "after": now})
    for version in sorted(set(before.get("observations", {})) & set(after.get("observations", {}))):
        old, new = before["observations"][version], after["observations"][version]
        for name in sorted(set(old) & set(new)):
            if old[name] != new[name]:
                changes.append(
                    {"probe": f"{version}::{name}", "field": "observed", "before": old[name], "after": new[name]}
                )
    return {"compared": compared, "changes": changes, "only_before": only_before, "only_after": only_after}
