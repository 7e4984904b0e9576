"""The write gate and provenance, as properties: no request with any key goes to an id that could name an
event no one designated; a journal or HAR is matched by what it names, never by how a URL is spelled."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpjs_conformance import designated, option_values, profile, provenance, replay_plan, shapes, writegate
from fpjs_conformance.model import READ, Credentials, Events, Key, Request
from tests.runner import IDS

VERSIONS = [profile.load(v) for v in profile.versions()]
EVENTS = Events(IDS.request_id, IDS.expired_request_id, IDS.not_ready_request_id)
SUFFIX = st.text(string.ascii_letters + string.digits, min_size=6, max_size=6)
# Live-shaped ids from any time: before ids were issued, and after.
LIVE_SHAPED = st.tuples(st.integers(10**12, 2 * 10**12), SUFFIX).map(lambda p: f"{p[0]}.{p[1]}")
DESIGNATED_IDS = [v for v in vars(EVENTS).values() if v]
ANY_ID = st.one_of(LIVE_SHAPED, st.text(min_size=1, max_size=40), st.sampled_from(DESIGNATED_IDS))
KEYS = st.sampled_from([Key("valid"), Key("empty"), Key("near", "drop-last"), Key("wrong_region")])


@pytest.mark.parametrize("p", VERSIONS, ids=lambda p: p.version)
@given(event_id=ANY_ID, key=KEYS, op=st.sampled_from(["update", READ]))
def test_nothing_reaches_an_event_that_could_exist_unless_designated(p, event_id, key, op):
    request = Request(event_id, Credentials.of(**{p.key_places[0].name: key}), op=op)
    kind = writegate.classify(p, EVENTS, request)
    could_exist = shapes.may_name_an_event(p, event_id)
    designated_ids = {EVENTS.live, EVENTS.expired, EVENTS.not_ready}
    derived = set(shapes.near_ids(EVENTS.live).values())
    if op == READ:
        assert kind == writegate.READ_ONLY
    elif event_id in designated_ids:
        assert kind in (writegate.DESIGNATED, writegate.OTHER_DESIGNATED)
    elif could_exist and event_id not in derived:
        assert kind == writegate.UNDESIGNATED
    else:
        assert kind == writegate.NO_EVENT


@pytest.mark.parametrize("p", VERSIONS, ids=lambda p: p.version)
def test_the_suites_own_ids_pass_the_gate(p):
    """Every id the coverage table sends an update to is one the gate lets through."""
    from fpjs_conformance import table_run

    for case in table_run.cases(p, EVENTS, wrong_region=True):
        for request in case.requests:
            assert writegate.classify(p, EVENTS, request) != writegate.UNDESIGNATED, (case.id, request)


SPELLINGS = st.sampled_from(
    [
        "http://API.example.com",
        "http://api.example.com:80/",
        "HTTP://api.example.com/v4",
        "http://user:pw@api.example.com/v4/",
        "http://api.example.com",
    ]
)


@given(SPELLINGS, SPELLINGS)
def test_one_api_however_its_url_is_spelled_or_versioned(a, b):
    assert provenance.api_root(a) == provenance.api_root(b) == "http://api.example.com"


@given(st.text(min_size=8, max_size=30), st.text(min_size=8, max_size=30))
def test_a_fingerprint_tells_keys_apart_and_never_holds_one(a, b):
    fa, fb = provenance.key_fingerprint(a), provenance.key_fingerprint(b)
    assert (fa == fb) == (a == b)  # 64 bits: no collision expected among drawn keys
    assert a not in fa


@pytest.mark.parametrize(
    ("journal", "mismatch"),
    [
        (dict(base="http://api.example.com/v4", event=IDS.request_id, key="k1"), None),
        (dict(base="http://other.example.com", event=IDS.request_id, key="k1"), "written against"),
        (dict(base="http://api.example.com", event="1708102555327.OTHERS", key="k1"), "names event"),
        (dict(base="http://api.example.com", event=IDS.request_id, key="k2"), "another API key"),
    ],
)
def test_a_journal_of_another_target_event_or_key_is_refused(tmp_path, journal, mismatch):
    """--restore-from checks the journal's provenance before any request (a usage error otherwise)."""
    from fpjs_conformance import options

    prov = provenance.record(journal["base"], journal["event"], journal["key"])
    made = designated.Journal.begin(
        tmp_path, provenance=prov, target=journal["base"], version="v4", original={}, embedded=False
    )
    if mismatch is None:
        options.check_journal(made.path, {"v3": "http://api.example.com"}, IDS.request_id, "k1")
        return
    with pytest.raises(options.OptionError) as caught:
        options.check_journal(made.path, {"v3": "http://api.example.com"}, IDS.request_id, "k1")
    assert "no request was sent" in str(caught.value) and "k1" not in str(caught.value)


@pytest.mark.parametrize(
    "edit",
    [
        {"event_id": "1708102555600.OTHERS"},
        {"targets": {"v4": "http://decoy.example.com/v4"}},
        {"targets": {"v4": "http://api.example.com/v4", "v3": "http://127.0.0.1:9"}},
    ],
)
def test_a_journal_edited_against_its_provenance_is_refused(tmp_path, edit):
    """A journal that names an event or a target besides its provenance was altered: `--restore-from` refuses
    it before any request (issue 24 item 5: the harness's crafted journals are made this way)."""
    from fpjs_conformance import options

    prov = provenance.record("http://api.example.com/v4", IDS.request_id, "k1")
    made = designated.Journal.begin(
        tmp_path, provenance=prov, target="http://api.example.com/v4", version="v4", original={}, embedded=False
    )
    option_values.check_journal(made.path, {"v4": "http://api.example.com/v4"}, IDS.request_id, "k1")  # as written
    made.path.write_text(json.dumps({**made.data, **edit}))
    with pytest.raises(options.OptionError) as caught:
        option_values.check_journal(made.path, {"v4": "http://api.example.com/v4"}, IDS.request_id, "k1")
    assert "no request was sent" in str(caught.value)


def test_an_unfinished_journal_is_found_under_another_version_of_the_url(tmp_path):
    """A v4 run after a killed v3 run in the same folder: the same API, event and key, spelled otherwise."""
    v3 = provenance.record("http://127.0.0.1:8080", IDS.request_id, "key")
    designated.Journal.begin(
        tmp_path, provenance=v3, target="http://127.0.0.1:8080", version="v3", original={}, embedded=False
    )
    v4 = provenance.record("http://127.0.0.1:8080/v4/", IDS.request_id, "key")
    assert designated.unfinished(tmp_path, v4) is not None
    assert designated.unfinished(tmp_path, provenance.record("http://127.0.0.1:8080/v4", "other", "key")) is None


def _har(tmp_path, entries, prov):
    log = {"version": "1.2", "entries": entries, "_fpjs": {"provenance": prov} if prov is not None else {}}
    path = tmp_path / "traffic.har"
    path.write_text(json.dumps({"log": log}))
    return str(path)


def _entry(event_id, role):
    request = Request(event_id, Credentials.of(header=Key("valid"))).to_record(Events(IDS.request_id))
    request["event"] = {"role": role, "id": event_id}
    return {"_fpjs": {"version": "v3", "kind": "coverage", "case": None, "request": request}}


def test_a_har_without_provenance_or_edited_against_it_is_refused(tmp_path):
    prov = {"v3": {"events": {"live": IDS.request_id, "expired": None, "not_ready": None}}}
    with pytest.raises(replay_plan.UsageError):
        replay_plan.read_entries(_har(tmp_path, [_entry(IDS.request_id, "live")], None))
    with pytest.raises(replay_plan.UsageError):  # the entry says the designated event was another one
        replay_plan.read_entries(_har(tmp_path, [_entry("1708102555327.OTHERS", "live")], prov))
    assert replay_plan.read_entries(_har(tmp_path, [_entry(IDS.request_id, "live")], prov))
