"""What the contract leaves open: any of the allowed answers passes, but never a 5xx or a bad error body.

Several faults at once (which is reported), keys in two places that differ (which wins), and the
request's Content-Type (none, or another media type: the JSON media type in another letter case or
with parameters is the same request, UE-HTTP-02's) and what SDKs add. The oracle names these
clauses where it lets either answer stand; their cases and random examples are here.
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import strategies as st

from fpjs_conformance import strategies
from fpjs_conformance.model import VALID, Body, Credential, Credentials, Key
from fpjs_conformance.registry import cases, clause, explores
from fpjs_conformance.table import CANONICAL, UNKNOWN_LIVE_SHAPE, Case, Table

SEVERAL_FAULTS = clause("UE-OPEN-01")
KEYS_DIFFER = clause("UE-OPEN-02")
CONTENT_TYPE = clause("UE-OPEN-03")


@cases
def several_faults(t: Table) -> Iterator[Case]:
    field, kind = next(iter(t.p.field_types.items()))
    wrong = {**t.marks(but=(field,)), field: CANONICAL["null" if kind != "null" else "string"]}
    yield t.case("faults/wrong-type+unknown-id", SEVERAL_FAULTS, t.update(wrong, event_id=UNKNOWN_LIVE_SHAPE))
    yield t.case("faults/malformed+odd-id", SEVERAL_FAULTS, t.update(Body.bytes_(b"{"), event_id="a b"))


@cases
def keys_in_two_places(t: Table) -> Iterator[Case]:
    places = t.p.key_places
    if len(places) < 2:
        return
    for good in places:
        other = next(pl for pl in places if pl is not good)
        creds = Credentials((Credential(good.name, VALID), Credential(other.name, Key("near", "drop-last"))))
        yield t.case(f"auth/valid-{good.name}-wrong-{other.name}", KEYS_DIFFER, t.update(creds=creds))


@cases
def request_shapes(t: Table) -> Iterator[Case]:
    u, p = t.update, t.p
    yield t.case("shape/no-content-type", CONTENT_TYPE, u(content_type=None))
    yield t.case("shape/text-plain", CONTENT_TYPE, u(content_type="text/plain"))
    sdk = {"extra_query": tuple(p.sdk_query.items()), "extra_headers": tuple(p.sdk_headers.items())}
    yield t.case("shape/sdk", CONTENT_TYPE, u(**sdk))


@explores(SEVERAL_FAULTS)
def random_several_faults(t: Table):
    p = t.p
    bodies = strategies.wrong_type_bodies(p) | strategies.malformed_bodies(p) | strategies.non_object_bodies()
    ids = (strategies.unknown_event_ids(p) | strategies.odd_event_ids(p)).filter(lambda i: i != t.events.live)
    return t.updates(bodies, event_ids=ids)


@explores(KEYS_DIFFER, weight=0.5)
def random_keys_differ(t: Table):
    places = [p.name for p in t.p.key_places]
    if len(places) < 2:
        return None
    other = strategies.near_miss_keys() | strategies.unrelated_keys()

    def creds(valid_at, key):
        wrong_at = next(p for p in places if p != valid_at)
        return Credentials((Credential(valid_at, VALID), Credential(wrong_at, key)))

    return t.updates(st.none(), st.builds(creds, st.sampled_from(places), other))


@explores(CONTENT_TYPE, weight=0.5)
def random_content_types(t: Table):
    p = t.p
    content_types = st.sampled_from([None, "text/plain"])
    return t.updates(
        strategies.valid_bodies(p),
        content_type=content_types,
        extra_query=st.sampled_from([(), tuple(p.sdk_query.items())]),
        extra_headers=st.sampled_from([(), tuple(p.sdk_headers.items())]),
    )
