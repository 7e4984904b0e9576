"""The surface of the contract a run observed, read from its traffic: which declared statuses and
which ErrorCode values came back, which key places and schemes were tried, which fields were sent
with which JSON types. Not the clause list: what of the operation itself the run touched.

The same for a run, a replay and a proxy session; `--require-observed=statuses` fails a run (exit 7)
in which a declared status never came back.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fpjs_conformance.model import READ, printable
from fpjs_conformance.profile import Profile
from fpjs_conformance.traffic import Record

JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
REQUIRABLE = ("statuses",)  # what --require-observed can demand


def json_type(value: Any) -> str:
    return "null" if value is None else JSON_TYPES.get(type(value), "other")


def surface(profile: Profile, records: list[Record]) -> dict[str, Any]:
    """What of one version's update operation these records show."""
    updates = [r.exchange for r in records if r.exchange.request.op != READ and not r.retried]  # tries: in .statuses
    statuses = Counter(s for ex in updates for s in (ex.statuses or [ex.status]) if s is not None)
    codes = Counter(code for ex in updates if (code := ex.error_code()) is not None)
    places: Counter = Counter()
    schemes: Counter = Counter()
    fields: dict[str, set[str]] = {name: set() for name in profile.fields}
    for ex in updates:
        for cred in ex.request.credentials.items:
            places[cred.place] += 1
            place = profile.place(cred.place)
            if place.scheme:
                scheme = place.scheme if cred.scheme == "" else cred.scheme
                schemes["(none)" if scheme is None else scheme] += 1
        body = ex.request.body.json_value
        if isinstance(body, dict):
            for name in profile.fields:
                if name in body:
                    fields[name].add(json_type(body[name]))
    declared = sorted(profile.declared_statuses)
    enum = list(profile.error_codes)
    return {
        "statuses": {
            "declared": declared,
            "seen": {str(s): n for s, n in sorted(statuses.items())},
            "missing": [s for s in declared if s not in statuses],
        },
        "codes": {
            "seen": dict(sorted(codes.items())),
            "missing": [c for c in enum if c not in codes],
            "outside_enum": sorted(c for c in codes if c not in enum),
        },
        "key_places": {p.name: places.get(p.name, 0) for p in (*profile.key_places, *profile.retired_places)},
        "schemes": dict(sorted(schemes.items())),
        "fields": {name: sorted(types) for name, types in fields.items()},
    }


def unmet(observed: dict[str, dict[str, Any]], required: tuple[str, ...]) -> list[str]:
    """What `--require-observed` asked for and a version did not show, one line each."""
    out = []
    for version, seen in observed.items():
        if "statuses" in required and seen["statuses"]["missing"]:
            missing = ", ".join(str(s) for s in seen["statuses"]["missing"])
            out.append(f"{version}: declared status(es) {missing} never came back")
    return out


def lines(seen: dict[str, dict]) -> list[str]:
    """The contract surface a run observed, a line per version and aspect (the reports show them)."""
    out = []
    for version, s in seen.items():
        statuses = ", ".join(f"{st} ({s['statuses']['seen'].get(str(st), 0)})" for st in s["statuses"]["declared"])
        missing = s["statuses"]["missing"]
        out.append(
            f"{version} declared statuses seen: {statuses}"
            + (f"; never: {', '.join(map(str, missing))}" if missing else "")
        )
        codes = s["codes"]  # what the server sent: shown escaped
        seen = ", ".join(f"{printable(c)} ({n})" for c, n in codes["seen"].items()) or "none"
        outside = ", ".join(printable(c) for c in codes["outside_enum"])
        out.append(f"{version} error codes seen: {seen}" + (f"; outside the enum: {outside}" if outside else ""))
        places = ", ".join(f"{p} ({n})" for p, n in s["key_places"].items())
        schemes = ", ".join(f"{k} ({n})" for k, n in s["schemes"].items())
        out.append(f"{version} key places tried: {places}" + (f"; schemes: {schemes}" if schemes else ""))
        fields = "; ".join(f"{f}: {', '.join(t) or 'never sent'}" for f, t in s["fields"].items())
        out.append(f"{version} fields sent, by JSON type: {fields}")
    return out
