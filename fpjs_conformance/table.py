"""The vocabulary of the coverage table: a `Case`, and the `Table` its cases are built with.

A clause's rule module (`fpjs_conformance.rules.<family>`) yields its cases from a `Table`: the
version's profile and designated events, request builders (the valid key in each declared place in
turn, so no answer may depend on the place), and the values every family shares. The walk over
every rule, the de-duplication and the run of the cases are in `coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from fpjs_conformance import strategies
from fpjs_conformance.model import VALID, Body, Credentials, Events, Request
from fpjs_conformance.profile import Profile

# Impossible ids: millisecond timestamps from 2001, before any Fingerprint event existed.
UNKNOWN_LIVE_SHAPE = "1000000000000.unknwn"
MARKER = "fpjs_case"  # an extra property, which the schema allows: tells a step apart from an earlier request
PROBE_MARK = "fpjs"  # the key every object the suite writes to the designated event carries at its top
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
    """The request with a marker property added, so that it differs from an identical earlier one."""
    return replace(request, body=Body.of({**request.body.json_value, MARKER: mark}))


def valid_value_of(kind: str, tag: str) -> Any:
    """A valid value of a JSON type, recognisable as the suite's (objects carry the probe mark)."""
    return {"string": f"fpjs-{tag}", "object": {PROBE_MARK: tag, "n": [1, {"x": None}]}, "boolean": True}.get(
        kind, CANONICAL.get(kind)
    )


class Table:
    """Builds one version's cases, for one set of designated events."""

    def __init__(self, profile: Profile, events: Events, *, wrong_region: bool):
        self.p = profile
        self.events = events
        self.wrong_region = wrong_region
        self.places = [place.name for place in profile.key_places]
        self._turn = 0

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
        """An update of the designated event (or `event_id`); by default the probe body, the key in turn."""
        if body is None:
            body = Body.of(probe_body(self.p))
        elif not isinstance(body, Body):
            body = Body.of(body)
        return Request(event_id or self.events.live, creds if creds is not None else self.key(), body, **kw)

    def case(self, case_id: str, clause_id: str, *requests: Request, compare: str | None = None) -> Case:
        return Case(case_id, clause_id, tuple(requests), compare)

    def valid_value(self, field: str, tag: str) -> Any:
        return valid_value_of(self.p.field_types[field], tag)

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
            return self.update(body, creds=cred, event_id=event_id, **kw)

        return st.builds(build, bodies, creds, ids, **extras)
