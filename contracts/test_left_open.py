"""What the contract leaves open: any of the allowed answers passes, but never a 5xx or a bad error body."""

from hypothesis import strategies as st

from fpjs_conformance import strategies
from fpjs_conformance.clauses import clause
from fpjs_conformance.contract import explore, reckon, settle, updates
from fpjs_conformance.model import VALID, Credential, Credentials


@clause("UE-OPEN-01")
def test_several_faults_any_answer(target):
    reckon(target, "UE-OPEN-01")
    p = target.profile
    bodies = strategies.wrong_type_bodies(p) | strategies.malformed_bodies(p) | strategies.non_object_bodies()
    ids = (strategies.unknown_event_ids(p) | strategies.odd_event_ids(p)).filter(lambda i: i != target.events.live)
    explore(target, "UE-OPEN-01", updates(target, bodies, event_ids=ids))
    settle(target, "UE-OPEN-01")


@clause("UE-OPEN-02")
def test_keys_in_two_places_differ(target):
    reckon(target, "UE-OPEN-02")
    places = [p.name for p in target.profile.key_places]
    other = strategies.near_miss_keys() | strategies.unrelated_keys()

    def creds(valid_at, key):
        wrong_at = next(p for p in places if p != valid_at)
        return Credentials((Credential(valid_at, VALID), Credential(wrong_at, key)))

    explore(
        target, "UE-OPEN-02", updates(target, st.none(), st.builds(creds, st.sampled_from(places), other)), weight=0.5
    )
    settle(target, "UE-OPEN-02")


@clause("UE-OPEN-03")
def test_content_type_and_sdk_additions(target):
    reckon(target, "UE-OPEN-03")
    p = target.profile
    content_types = st.sampled_from([None, "text/plain", "application/json; charset=utf-8", "APPLICATION/JSON"])
    sdk_query = st.sampled_from([(), tuple(p.sdk_query.items())])
    sdk_headers = st.sampled_from([(), tuple(p.sdk_headers.items())])
    requests = updates(
        target,
        strategies.valid_bodies(p),
        content_type=content_types,
        extra_query=sdk_query,
        extra_headers=sdk_headers,
    )
    explore(target, "UE-OPEN-03", requests, weight=0.5)
    settle(target, "UE-OPEN-03")
