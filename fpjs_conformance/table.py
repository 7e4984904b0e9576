"""The vocabulary of the coverage table: a `Case`, and the `Table` its cases are built with.

A clause's rule module (`fpjs_conformance.rules.<family>`) yields its cases from a `Table`: the
version's profile and designated events, request builders (the valid key in each declared place in
turn, so no answer may depend on the place), and the values every family shares. What rides along
on the cases of several families comes from here too, each from one rotation over the version's
whole table (`fpjs_conformance.variety`): the header shapes of real clients (`shaped`), the string
classes a single string field still has to carry (`ride`), near misses of the field names
(`near_misses`), and bodies written with JSON's escapes (`text_body`). The walk over every rule,
the de-duplication and the run of the cases are in `table_run`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from fpjs_conformance import strategies, variety
from fpjs_conformance.model import VALID, Body, Credentials, Events, Request, strict_json
from fpjs_conformance.profile import Profile

# Impossible ids: millisecond timestamps from 2001, before any Fingerprint event existed.
UNKNOWN_LIVE_SHAPE = "1000000000000.unknwn"
MARKER = "fpjs_case"  # an extra property, which the schema allows: tells a step apart from an earlier request
PROBE_MARK = "fpjs"  # the key every object the suite writes to the designated event carries at its top
MARKABLE = ("string", "object")  # field types a value of which can carry a mark (`Table.marks`)
# A canonical value of each JSON type.
CANONICAL: dict[str, Any] = {
    "null": None,
    "boolean": True,
    "integer": 1,
    "number": 1.5,
    "string": "x",
    "array": [],
    "object": {},
}


@dataclass(frozen=True)
class Case:
    """One designed probe: requests sent in order, then (for `compare`) the event read back.

    compare: None (judge the answers only), "fold" (the read-back holds every field the requests
    set, later values replacing earlier ones), "repeat" (the one request sent twice: same answer,
    same stored values).
    """

    id: str
    clause_id: str
    requests: tuple[Request, ...]
    compare: str | None = None

    @property
    def needs_read_back(self) -> bool:
        return self.compare is not None


def probe_body(profile: Profile) -> dict[str, Any]:
    """A small valid update: the first string field (or else the first boolean) set."""
    for name in profile.fields_of_type("string"):
        return {name: "fpjs-conformance-probe"}
    return {profile.fields_of_type("boolean")[0]: False}


def marked(request: Request, mark: str) -> Request:
    """The request with a marker property added, so that it differs from an identical earlier one (a
    body written as JSON text of its own keeps its text, the marker added at its end)."""
    value = {**request.body.json_value, MARKER: mark}
    raw = request.body.raw
    if raw is not None and raw.rstrip().endswith(b"}"):
        raw = raw.rstrip()[:-1] + b", " + json.dumps(MARKER).encode() + b": " + json.dumps(mark).encode() + b"}"
        return replace(request, body=Body(json_value=value, raw=raw))
    return replace(request, body=Body.of(value))


def text_body(members: list[tuple[str, Any, str]]) -> Body:
    """A body written member by member as JSON text (`variety.body_text`: raw, escaped, or with the name
    escaped too), with the JSON value it stands for (what the read-back is compared with)."""
    value = {name: v for name, v, _ in members}
    raw = variety.body_text(members)
    if strict_json(raw) != value:
        raise ValueError(f"JSON text that does not stand for its value: {raw[:200]!r}")
    return Body(json_value=value, raw=raw)


def unlike(kind: str, tag: str, other: Any) -> Any:
    """A valid value of a JSON type that differs from `other` (a boolean: the other one)."""
    if kind == "boolean":
        return not other if isinstance(other, bool) else False
    if kind == "object":
        return {PROBE_MARK: tag}
    return valid_value_of(kind, tag)


def valid_value_of(kind: str, tag: str) -> Any:
    """A valid value of a JSON type, recognisable as the suite's (objects carry the probe mark)."""
    return {"string": f"fpjs-{tag}", "object": {PROBE_MARK: tag, "n": [1, {"x": None}]}, "boolean": True}.get(
        kind, CANONICAL.get(kind)
    )


def _marked(value: Any) -> bool:
    """A field value the suite's own: a string it writes (`fpjs-...`), an object carrying the probe mark
    (what `preflight.looks_like_probe` recognises)."""
    if isinstance(value, str):
        return value.startswith(f"{PROBE_MARK}-")
    return isinstance(value, dict) and PROBE_MARK in value


class Table:
    """Builds one version's cases, for one set of designated events."""

    def __init__(self, profile: Profile, events: Events, *, wrong_region: bool):
        self.p = profile
        self.events = events
        self.wrong_region = wrong_region
        self.places = [place.name for place in profile.key_places]
        self._turn = 0
        self._shapes = {"refusal": 0, "accepted": 0}
        # Values of only one class (by group) each single string field has still to carry.
        self._rides = {f: variety.field_values(profile, f) for f in profile.fields_of_type("string")}
        self._near = variety.field_near_misses(profile)
        self._marks = 0

    # -- marks: whose values the designated event shows ---------------------------------------------
    def mark(self) -> str:
        """A text no other request of the table carries (`fpjs-<version>-m<n>`): a read-back that shows it
        names the request (the state oracle, `fpjs_conformance.state`)."""
        self._marks += 1
        return f"{PROBE_MARK}-{self.p.version}-m{self._marks}"

    def marks(self, *, but: tuple[str, ...] = ()) -> dict[str, Any]:
        """One new mark in every field that can carry one (a string: the mark; an object: under the probe
        mark), but those in `but`."""
        m = self.mark()
        out: dict[str, Any] = {}
        for field, kind in self.p.field_types.items():
            if field not in but and kind in MARKABLE:
                out[field] = m if kind == "string" else {PROBE_MARK: m}
        return out

    def hold(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body`, with a mark in another field when it sets a field that can carry one to a value that does
        not, and no field it sets carries one: from the first write on, the event always holds the suite's
        mark (`preflight.looks_like_probe`), so a run that never finished is recognised by any later run."""
        sets = [f for f in self.p.fields if f in body]
        if any(_marked(body[f]) for f in sets) or not any(self.p.field_types[f] in MARKABLE for f in sets):
            return body  # marked already, or it sets only fields no mark fits: what the event holds keeps its own
        free = [f for f, kind in self.p.field_types.items() if kind in MARKABLE and f not in body]
        if not free:
            return body
        return {**body, free[0]: self.marks()[free[0]]}

    def key(self) -> Credentials:
        """The valid key, in each declared place in turn: no answer may depend on the place."""
        place = self.places[self._turn % len(self.places)]
        self._turn += 1
        return Credentials.of(**{place: VALID})

    def first_key(self) -> Credentials:
        """The valid key in its first place (where the place clauses are judged elsewhere)."""
        return Credentials.of(**{self.places[0]: VALID})

    def update(
        self, body: Any = None, *, creds: Credentials | None = None, event_id: str | None = None, **kw: Any
    ) -> Request:
        """An update of the designated event (or `event_id`); by default a body of new marks, the key in turn."""
        if body is None:
            body = Body.of(self.marks())
        elif not isinstance(body, Body):
            body = Body.of(body)
        return Request(event_id or self.events.live, creds if creds is not None else self.key(), body, **kw)

    def case(self, case_id: str, clause_id: str, *requests: Request, compare: str | None = None) -> Case:
        return Case(case_id, clause_id, tuple(requests), compare)

    def valid_value(self, field: str, tag: str) -> Any:
        return valid_value_of(self.p.field_types[field], tag)

    # -- what rides along ---------------------------------------------------------------------------
    def shaped(self, answer: str) -> dict[str, Any]:
        """The next header shape of a real client for a request answered this way ("refusal" or
        "accepted"), as request keywords: each rotation goes over every shape, so each is seen both
        refused and accepted."""
        shapes = variety.shapes()
        turn = self._shapes[answer]
        self._shapes[answer] += 1
        return shapes[turn % len(shapes)].request_kw()

    def ride(self, *, but: tuple[str, ...] = ()) -> dict[str, Any]:
        """The next value of only one class for a single string field that still has one to carry (not
        one of `but`), as a body member ({} when every field has carried every class)."""
        for field, values in self._rides.items():
            if values and field not in but:
                return {field: values.pop(0)[1]}
        return {}

    def rides_left(self) -> list[tuple[str, str, str]]:
        """What no case carried: (field, class group, value), each to be sent in a case of its own."""
        out = [(f, group, value) for f, values in self._rides.items() for group, value in values]
        for values in self._rides.values():
            values.clear()
        return out

    def near_misses(self, fields: Any, tag: str, against: dict[str, Any]) -> dict[str, Any]:
        """Members named as near misses of `fields` (unknown members: nothing may store them), each a valid
        value of its field's type that differs from `against[field]`, so that a store that takes one
        as the field shows it."""
        out: dict[str, Any] = {}
        for field in fields:
            kind = self.p.field_types[field]
            for i, miss in enumerate(self._near[field]):
                out[miss] = unlike(kind, f"near-{tag}-{i}", against.get(field))
        return out

    # -- random exploration -----------------------------------------------------------------------
    def updates(
        self,
        bodies: st.SearchStrategy,
        credentials: st.SearchStrategy | None = None,
        event_ids: st.SearchStrategy | None = None,
        **extra: Any,
    ) -> st.SearchStrategy[Request]:
        """Updates of the designated event (or of `event_ids`) with these bodies and credentials."""
        creds = credentials if credentials is not None else strategies.valid_credentials(self.p)
        ids = event_ids if event_ids is not None else st.just(self.events.live)
        extras = {k: (v if isinstance(v, st.SearchStrategy) else st.just(v)) for k, v in extra.items()}

        def build(body: Body | dict | None, cred: Credentials, event_id: str, **kw: Any) -> Request:
            body = Body.of(probe_body(self.p)) if body is None else body  # drawn again alike: no marks
            return self.update(body, creds=cred, event_id=event_id, **kw)

        return st.builds(build, bodies, creds, ids, **extras)
