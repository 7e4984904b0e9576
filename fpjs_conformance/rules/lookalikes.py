"""Ids that lead elsewhere: paths that only look like the designated event's, and another workspace's event.

Lookalikes come from how routers and stores treat a path segment (RFC 3986): `;` and `=` are data of a
segment (3.3: matrix parameters, which servlet containers strip), a `.json` suffix (a format extension
frameworks strip), an empty segment before the id (`//`, which proxies merge), the percent sign itself
encoded (a server that decodes twice finds the event). None is the designated id: each must be answered
as an id that names no event, and change nothing (UE-ID-04, and UE-STATE-02 through its marks). What
RFC 3986, 6.2.2 makes equivalent (unreserved characters percent-encoded, hex digits in either case) may
update the designated event; a trailing slash is left open (common routers fold it). The event of
another application (`--foreign-request-id`) must be not found, never 200 and never a refusal that
tells it exists (UE-ID-05); with `--foreign-api-key` it is read back, unchanged (RESTler's namespace rule).
"""

from __future__ import annotations

from collections.abc import Iterator

from fpjs_conformance.checks import Fault
from fpjs_conformance.model import Events, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import cases, clause
from fpjs_conformance.shapes import EQUIVALENT, OPEN, OTHER, relation
from fpjs_conformance.table import Case, Table

LOOKALIKE = clause("UE-ID-04")
FOREIGN_NOT_FOUND = clause("UE-ID-05", needs=("foreign_event",))


def _encoded(text: str, hexdigits: str) -> str:
    return "".join(f"%{ord(c):02X}".lower() if hexdigits == "lower" else f"%{ord(c):02X}" for c in text)


def lookalikes(live: str) -> dict[str, tuple[str, str]]:
    """Name -> (the path text as sent, how it relates to `live`)."""
    first = live[:1]
    return {
        "percent-encoded": (_encoded(live, "lower"), EQUIVALENT),
        "trailing-slash": (live + "/", OPEN),
        "matrix-parameter": (live + ";x=1", OTHER),
        "format-suffix": (live + ".json", OTHER),
        "empty-segment": ("/" + live, OTHER),
        "double-encoded": ("%25" + _encoded(first, "upper")[1:] + live[1:], OTHER),
    }


def _refusals(profile: Profile) -> dict[int, frozenset[str] | None]:
    out: dict[int, frozenset[str] | None] = {}
    for name in ("unknown_event", "invalid_event_id", "odd_event_id"):
        for status, codes in profile.role(name).answers.items():
            have = out.get(status, frozenset())
            out[status] = None if codes is None or have is None else have | codes
    return out


def fault(profile: Profile, request: Request, events: Events) -> Fault | None:
    """What a lookalike path must get: refused as no event, or (equivalent, open) that or the update itself."""
    if request.id_encoded:
        kind = relation(request.event_id, events.live)
        why = {
            EQUIVALENT: "a path RFC 3986 makes equivalent to the designated id (it may update it)",
            OPEN: "the designated id with a trailing slash (left open: routers fold it)",
            OTHER: "a path that only looks like the designated id",
        }[kind]
        return Fault(LOOKALIKE, _refusals(profile), soft=kind != OTHER, why=why)
    if events.foreign and request.event_id == events.foreign:
        role = profile.role("unknown_event")
        why = "an event of another workspace, as if none: never a refusal that tells it exists"
        return Fault(FOREIGN_NOT_FOUND, dict(role.answers), why=why, refusals_judged=True)
    return None


@cases
def lookalike_ids(t: Table) -> Iterator[Case]:
    for name, (text, _kind) in lookalikes(t.events.live).items():
        yield t.case(f"id/lookalike:{name}", LOOKALIKE, t.update(event_id=text, id_encoded=True))


@cases
def foreign_event(t: Table) -> Iterator[Case]:
    if t.events.foreign:
        yield t.case("id/foreign", FOREIGN_NOT_FOUND, t.update(event_id=t.events.foreign), compare="foreign")
