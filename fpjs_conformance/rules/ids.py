"""Event ids: unknown ones, odd ones, and an event past the update window.

`fault` says what an id that is not a designated event must get: an unknown id of the live shape
404 with the not-found code; a plain id of another shape what the version's `invalid_event_id`
role allows (v4's document declares 400 for an invalid id on the same path); an odd id 400 or 404;
the expired event any refusal the version allows.
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import strategies as st

from fpjs_conformance import shapes, strategies
from fpjs_conformance.checks import Fault
from fpjs_conformance.model import Events, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import cases, clause, explores
from fpjs_conformance.table import UNKNOWN_LIVE_SHAPE, Case, Table

UNKNOWN_NOT_FOUND = clause("UE-ID-01")
ODD_REFUSED = clause("UE-ID-02")
EXPIRED_REFUSED = clause("UE-ID-03", needs=("expired_event",))

# Id kind -> (clause, role of its answer, what the id is, in words for a failure line).
KINDS = {
    shapes.UNKNOWN: (UNKNOWN_NOT_FOUND, "unknown_event", "an unknown id of the live shape {live}"),
    shapes.INVALID: (UNKNOWN_NOT_FOUND, "invalid_event_id", "a plain id not of the live shape {live}"),
    shapes.ODD: (ODD_REFUSED, "odd_event_id", "an odd id (not plain: {plain})"),
}
# Ids outside the plain shape, by what a router or a store may trip on (the percent sign itself, `;`, a
# suffix, `//`: the lookalikes of the designated id, rules/lookalikes.py); characters of one kind go together.
ODD_IDS: dict[str, str] = {
    "slash": "a/b",
    "space": "a b",
    "unicode": "\u00e9\u2713",
    "astral": "\U0001f98a",
    "controls": "a\nb\x7fc",
    "punctuation": "?#&=\"'<>\\",
    "leading-dash": "-abc",
    "long": "9" * 512,
}


def fault(profile: Profile, request: Request, events: Events) -> Fault | None:
    kind = shapes.id_kind(profile, request.event_id, events)
    if kind == shapes.EXPIRED:
        role = profile.role("expired_event")
        why = "an event past its window"
        return Fault(
            EXPIRED_REFUSED, dict(role.answers), relaxed=True, why=why, should=role.lenient, should_basis=role.sources
        )
    if kind not in KINDS:
        return None
    clause_id, role_name, what = KINDS[kind]
    role = profile.role(role_name)
    why = what.format(live=profile.live_id.pattern, plain=profile.plain_id.pattern)
    why += f"; left open: {role.open}" if role.open else ""
    return Fault(clause_id, dict(role.answers), why=why, should=role.lenient, should_basis=role.sources)


@cases
def event_ids(t: Table) -> Iterator[Case]:
    c, u = t.case, t.update
    yield c("id/unknown:live-shape", UNKNOWN_NOT_FOUND, u(event_id=UNKNOWN_LIVE_SHAPE))
    yield c("id/unknown:longest-plain", UNKNOWN_NOT_FOUND, u(event_id="P" * _plain_max(t.p)))
    live = t.events.live
    for name, event_id in shapes.near_ids(live).items():  # one longer: a suffix, rules/lookalikes.py
        if event_id not in (live, t.events.expired, t.events.not_ready):
            yield c(f"id/unknown:{name}", UNKNOWN_NOT_FOUND, u(event_id=event_id))
    for name, event_id in ODD_IDS.items():
        yield c(f"id/odd:{name}", ODD_REFUSED, u(event_id=event_id))
    yield c("id/odd:past-plain", ODD_REFUSED, u(event_id="P" * (_plain_max(t.p) + 1)))
    if t.events.expired:
        yield c("id/expired", EXPIRED_REFUSED, u(event_id=t.events.expired))


def _plain_max(profile: Profile) -> int:
    """The longest id the profile's plain-id pattern allows (its last `{m,n}` bound plus one)."""
    import re

    bounds = re.findall(r"\{(\d+),(\d+)\}", profile.plain_id.pattern)
    return int(bounds[-1][1]) + 1 if bounds else 64


def _not_designated(t: Table, ids):
    ev = t.events
    return ids.filter(lambda i: i not in (ev.live, ev.expired, ev.not_ready))


@explores(UNKNOWN_NOT_FOUND)
def random_unknown_ids(t: Table):
    return t.updates(st.none(), event_ids=_not_designated(t, strategies.unknown_event_ids(t.p)))


@explores(ODD_REFUSED)
def random_odd_ids(t: Table):
    return t.updates(st.none(), event_ids=_not_designated(t, strategies.odd_event_ids(t.p)))
