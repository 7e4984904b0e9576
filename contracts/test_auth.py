"""Auth: every key place, the codes for missing, empty, wrong and other-region keys, schemes, and
authentication before anything else. The coverage table sends every situation in every place."""

from hypothesis import strategies as st

from fpjs_conformance import strategies
from fpjs_conformance.clauses import clause
from fpjs_conformance.contract import explore, reckon, require, settle, updates
from fpjs_conformance.model import Credential, Credentials


@clause("UE-AUTH-01")
def test_no_key_is_refused_as_missing(target):
    reckon(target, "UE-AUTH-01")
    settle(target, "UE-AUTH-01")


@clause("UE-AUTH-02")
def test_empty_key_is_refused_as_missing(target):
    reckon(target, "UE-AUTH-02")
    settle(target, "UE-AUTH-02")


@clause("UE-AUTH-03")
def test_wrong_key_is_refused_as_unknown(target):
    reckon(target, "UE-AUTH-03")
    places = st.sampled_from([p.name for p in target.profile.key_places])
    keys = strategies.near_miss_keys() | strategies.unrelated_keys()
    wrong = st.builds(lambda place, key: Credentials((Credential(place, key),)), places, keys)
    explore(target, "UE-AUTH-03", updates(target, st.none(), wrong))
    settle(target, "UE-AUTH-03")


@clause("UE-AUTH-04")
def test_key_works_in_the_header(target):
    reckon(target, "UE-AUTH-04")
    settle(target, "UE-AUTH-04")


@clause("UE-AUTH-05")
def test_key_works_in_the_query(target):
    reckon(target, "UE-AUTH-05")
    settle(target, "UE-AUTH-05")


@clause("UE-AUTH-06")
def test_other_region_key_is_refused_as_wrong_region(target):
    require(target.has_wrong_region_key, "needs --wrong-region-api-key (FPJS_WRONG_REGION_API_KEY)")
    reckon(target, "UE-AUTH-06")
    settle(target, "UE-AUTH-06")


@clause("UE-AUTH-07")
def test_authentication_comes_first(target):
    reckon(target, "UE-AUTH-07")
    p = target.profile
    bodies = (
        strategies.valid_bodies(p)
        | strategies.wrong_type_bodies(p)
        | strategies.malformed_bodies(p)
        | strategies.non_object_bodies()
        | strategies.empty_update_bodies(p)
    )
    ids = st.just(target.events.live) | strategies.unknown_event_ids(p) | strategies.odd_event_ids(p)
    creds = strategies.bad_credentials(p, wrong_region=target.has_wrong_region_key)
    explore(target, "UE-AUTH-07", updates(target, bodies, creds, ids))
    settle(target, "UE-AUTH-07")


@clause("UE-AUTH-08")
def test_scheme_name_is_case_insensitive(target):
    reckon(target, "UE-AUTH-08")
    settle(target, "UE-AUTH-08")


@clause("UE-AUTH-09")
def test_key_without_its_scheme_is_refused(target):
    reckon(target, "UE-AUTH-09")
    settle(target, "UE-AUTH-09")


@clause("UE-AUTH-10")
def test_retired_key_places_do_not_authenticate(target):
    reckon(target, "UE-AUTH-10")
    settle(target, "UE-AUTH-10")


@clause("UE-HTTP-01")
def test_header_name_case_does_not_matter(target):
    reckon(target, "UE-HTTP-01")
    explore(target, "UE-HTTP-01", updates(target, strategies.valid_bodies(target.profile)), weight=0.5)
    settle(target, "UE-HTTP-01")
