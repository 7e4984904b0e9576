"""`fpjs_conformance.schemathesis`: the suite's clauses as schemathesis checks (a hooks module).

Units: a schemathesis case becomes the suite's symbolic request (the real key `Key("valid")`, every
place and spelling kept), a check judges hand-built responses with the suite's oracle, failures name
their clause and never hold the key, the read-back goes through the suite's transport, the hooks
send updates to the designated event. Then `schemathesis run` itself with the hooks, against the
reference server (nothing found, both versions) and against mutants (found, under the right clause,
read from schemathesis's JUnit report), the key in no output.

Importing the module registers its checks, hooks and auth with schemathesis for the whole process,
so it is imported inside a fixture and unregistered after each test: other tests in the same
worker (the suite's schemathesis strategies) never see it.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import requests
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response

from fpjs_conformance import clauses, codec, oracle
from fpjs_conformance import profile as profiles
from fpjs_conformance.checks import Violation
from fpjs_conformance.model import (
    EMPTY,
    NO_BODY,
    VALID,
    Body,
    Credential,
    Credentials,
    Exchange,
    Key,
)
from fpjs_conformance.rules import auth
from tests.runner import IDS, ROOT, clean_env, reference_server

MODULE = "fpjs_conformance.schemathesis"
KEY = "st-hooks-" + secrets.token_hex(10)  # throwaway: never a real key
LIVE = IDS.request_id
EXCLUDED = "positive_data_acceptance,missing_required_header,allow_header_conformance"
RUN_TIMEOUT = 240  # seconds for one `schemathesis run` (about 4 s unloaded)


@pytest.fixture
def hooks(monkeypatch):
    """The hooks module with the suite's environment set; unregistered again afterwards."""
    for name in ("FPJS_API_VERSION", "FPJS_EVENT_ID", "FPJS_EXPIRED_REQUEST_ID", "FPJS_NOT_READY_REQUEST_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FPJS_API_KEY", KEY)
    monkeypatch.setenv("FPJS_REQUEST_ID", LIVE)
    module = importlib.import_module(MODULE)
    module.register()
    yield module
    module.unregister()


@cache
def _schema(version: str):
    import schemathesis

    return schemathesis.openapi.from_path(ROOT / "contracts" / profiles.load(version).document_name)


def operation(version: str, read_back: bool = False):
    p = profiles.load(version)
    if read_back:
        return _schema(version)[p.read_back_path][p.read_back_method]
    return _schema(version)[p.update_path][p.update_method]


def case_of(version: str, *, headers=None, query=None, body=NOT_SET, event_id: str = LIVE, media_type=None):
    p = profiles.load(version)
    if media_type is None and body is not NOT_SET:
        media_type = "application/json"
    return operation(version).Case(
        path_parameters={p.id_param: quote(event_id, safe="")},
        headers=dict(headers or {}),
        query=dict(query or {}),
        body=body,
        media_type=media_type,
    )


def response_to(case, status: int, payload=None, *, base: str = "http://127.0.0.1:9") -> Response:
    """A schemathesis response to `case` as it would have gone out (no network)."""
    if case.body is NOT_SET:
        body = b""
    else:
        body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
    headers = dict(case.headers or {})
    if case.body is not NOT_SET:
        headers.setdefault("Content-Type", case.media_type)
    prepared = requests.Request(
        case.method, base + case.formatted_path, headers=headers, params=case.query, data=body or None
    ).prepare()
    content = b"" if payload is None else json.dumps(payload).encode()
    received = {"content-type": ["application/json"]} if payload is not None else {}
    return Response(status_code=status, headers=received, content=content, request=prepared, elapsed=0.01, verify=True)


def error(profile_version: str, role: str) -> dict:
    """The ErrorResponse body an implementation answers for a role (from the profile)."""
    r = profiles.load(profile_version).role(role)
    return {"error": {"code": r.code, "message": "x"}}


def clause_ids(exc: BaseException) -> list[str]:
    failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
    return sorted(f.clause_id for f in failures)


def failure_texts(exc: BaseException) -> list[str]:
    failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
    return [f"{f.title}\n{f.message}" for f in failures]


# -- a schemathesis case as the suite's request ---------------------------------------------------------
V4_HEADERS = {  # what was sent -> the credential it is (ids name the spelling, never the key)
    "bearer": ({"Authorization": f"Bearer {KEY}"}, Credential("header", VALID)),
    "lower-case": ({"authorization": f"bearer {KEY}"}, Credential("header", VALID, name_case="lower", scheme="bearer")),
    "upper-case": ({"AUTHORIZATION": f"BEARER {KEY}"}, Credential("header", VALID, name_case="upper", scheme="BEARER")),
    "mixed-case": ({"AuthoriZation": f"Bearer {KEY}"}, Credential("header", VALID, name="AuthoriZation")),
    "bare": ({"Authorization": KEY}, Credential("header", VALID, scheme=None)),
    "basic": ({"Authorization": f"Basic {KEY}"}, Credential("header", VALID, scheme="Basic")),
    "scheme-alone": ({"Authorization": "Bearer"}, Credential("header", EMPTY, scheme="Bearer")),
    "scheme-and-space": ({"Authorization": "Bearer "}, Credential("header", EMPTY, scheme="Bearer")),
    "empty": ({"Authorization": ""}, Credential("header", EMPTY)),
    "colon": ({"Authorization": f"Bearer:{KEY}"}, Credential("header", VALID, separator=":")),
    "glued": ({"Authorization": f"Bearer{KEY}"}, Credential("header", VALID, separator="")),
    # A key the suite cannot name is a placeholder, never its text (as the proxy reads it: one codec).
    "other-key": ({"Authorization": "Bearer not-the-key"}, Credential("header", codec.WRONG_KEY)),
    "unrelated": ({"Authorization": f"Bearer {auth.UNRELATED_KEY.variant}"}, Credential("header", auth.UNRELATED_KEY)),
    "near-miss": ({"Authorization": f"Bearer {KEY[:-1]}"}, Credential("header", Key("near", "drop-last"))),
    "retired-header": ({"Auth-API-Key": KEY}, Credential("retired-header", VALID)),
}


@pytest.mark.parametrize(("headers", "credential"), list(V4_HEADERS.values()), ids=list(V4_HEADERS))
def test_v4_header_values_become_symbolic_credentials(hooks, headers, credential):
    request = hooks.to_request(case_of("v4", headers=headers, body={"linked_id": "a"}), profiles.load("v4"), KEY)
    assert request.credentials == Credentials((credential,))
    assert KEY not in repr(request)


def test_query_keys_keep_their_place(hooks):
    v4 = hooks.to_request(case_of("v4", query={"api_key": KEY}), profiles.load("v4"), KEY)
    assert v4.credentials == Credentials.of(**{"retired-query": VALID})
    v3 = hooks.to_request(case_of("v3", headers={"Auth-API-Key": KEY}, query={"api_key": ""}), profiles.load("v3"), KEY)
    assert v3.credentials == Credentials((Credential("header", VALID), Credential("query", EMPTY)))
    other = hooks.to_request(case_of("v3", query={"api_key": "someone-else"}), profiles.load("v3"), KEY)
    assert other.credentials == Credentials.of(query=codec.WRONG_KEY)
    assert "someone-else" not in repr(other) + repr(other.to_record())
    # What went out wins over the case: the prepared request's query (lists, JSON spellings).
    case = case_of("v3", query={"api_key": KEY, "ii": ["a", "b"]})
    sent = response_to(case, 200).request
    request = hooks.to_request(case, profiles.load("v3"), KEY, sent)
    assert request.credentials == Credentials.of(query=VALID)
    assert request.extra_query == (("ii", "a"), ("ii", "b"))


def test_body_content_type_id_and_extras(hooks):
    p = profiles.load("v4")
    absent = hooks.to_request(case_of("v4", event_id="a/b é"), p, KEY)
    assert (absent.body, absent.content_type, absent.event_id) == (NO_BODY, None, "a/b é")
    raw = hooks.to_request(case_of("v4", body=b"\x00", media_type="application/json"), p, KEY)
    assert raw.body == Body.bytes_(b"\x00")
    probe = hooks.to_request(
        case_of("v4", headers={"Content-Type": "text/plain", "X-Extra": "1"}, query={"q": True}, body=[1]), p, KEY
    )
    assert probe.body == Body.of([1]) and probe.content_type == "text/plain"
    assert probe.extra_headers == (("X-Extra", "1"),) and probe.extra_query == (("q", "true"),)


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_every_credential_draw_comes_back_as_itself(hooks, version):
    """The hooks spell credentials with the suite's transport; the conversion reads them back exactly."""
    p = profiles.load(version)
    settings = hooks.Settings.from_env()
    draws = [Credentials.of(**{p.key_places[0].name: VALID}), *hooks.credential_draws(p)]
    assert len(set(draws)) == len(draws)
    for creds in draws:
        case = hooks.place_key(case_of(version, body={"x": 1}), p, settings.api_key, creds)
        assert hooks.to_request(case, p, KEY).credentials == creds
        assert case._has_explicit_auth is not hooks.refused(p, creds)
    if p.retired_places:
        assert {c.items[0].place for c in draws if c.items} >= {r.name for r in p.retired_places}


# -- judging a response -------------------------------------------------------------------------------------
def test_a_correct_answer_passes(hooks):
    case = case_of("v4", body={"linked_id": "a"})
    assert hooks.fpjs_clauses(None, response_to(case, 403, error("v4", "missing_key")), case) is None
    keyed = case_of("v4", headers={"Authorization": f"Bearer {KEY}"}, body={"linked_id": "a"})
    assert hooks.fpjs_clauses(None, response_to(keyed, 200), keyed) is None


def test_a_wrong_code_fails_under_its_clause_without_the_key(hooks):
    case = case_of("v4", headers={"Authorization": "Bearer not-the-key"}, body={"linked_id": "a"})
    with pytest.raises(hooks.ClauseViolated) as caught:
        hooks.fpjs_clauses(None, response_to(case, 403, error("v4", "missing_key")), case)
    (text,) = failure_texts(caught.value)
    wrong_key = clauses.get("UE-AUTH-03")
    assert caught.value.clause_id == "UE-AUTH-03"
    assert f"UE-AUTH-03 ({wrong_key.title})" in text and wrong_key.requirement(profiles.load("v4")) in text


def test_a_retired_place_honoured_fails_and_the_key_is_scrubbed(hooks):
    case = case_of("v4", query={"api_key": KEY}, body={"linked_id": "a"})
    with pytest.raises(hooks.ClauseViolated) as caught:
        hooks.fpjs_clauses(None, response_to(case, 200), case)
    assert caught.value.clause_id == "UE-AUTH-10"
    (text,) = failure_texts(caught.value)
    assert KEY not in text and "${FPJS_API_KEY}" in text  # the URL as the suite shows it


def test_auth_first_one_failure_per_clause(hooks):
    case = case_of("v4")  # no key, no body
    with pytest.raises(FailureGroup) as caught:
        hooks.fpjs_clauses(None, response_to(case, 400, error("v4", "bad_request")), case)
    assert clause_ids(caught.value) == ["UE-AUTH-01", "UE-AUTH-07"]
    assert all(KEY not in t for t in failure_texts(caught.value))


def test_other_operations_and_a_429_are_not_judged(hooks):
    read = operation("v4", read_back=True).Case(path_parameters={"event_id": LIVE})
    assert hooks.fpjs_clauses(None, response_to(read, 500), read) is True
    case = case_of("v4", headers={"Authorization": f"Bearer {KEY}"}, body={"linked_id": "a"})
    assert hooks.fpjs_clauses(None, response_to(case, 429, error("v4", "rate_limited")), case) is None


def test_the_judgement_is_the_oracles(hooks, monkeypatch):
    """The check asks `oracle.expect` and `oracle.judge`: patched, they decide what it reports."""
    seen = {}
    real_expect = oracle.expect

    def expect(profile, request, events, *, also=()):
        seen["expect"] = request
        return real_expect(profile, request, events, also=also)

    def judge(ex: Exchange, profile, expectations):
        seen["judge"] = expectations
        return [("UE-RESP-02", Violation("UE-RESP-02", "planted", ex.received(), ex))]

    monkeypatch.setattr(oracle, "expect", expect)
    monkeypatch.setattr(oracle, "judge", judge)
    case = case_of("v4", headers={"Authorization": f"Bearer {KEY}"}, body={"linked_id": "a"})
    with pytest.raises(hooks.ClauseViolated) as caught:
        hooks.fpjs_clauses(None, response_to(case, 200), case)
    assert caught.value.clause_id == "UE-RESP-02" and "planted" in caught.value.message
    assert seen["expect"].credentials == Credentials.of(header=VALID)
    assert [e.clause_id for e in seen["judge"]] == ["UE-BODY-01", "UE-AUTH-04"]


def test_no_second_rule_set_in_the_module():
    """The hooks' modules import the suite's judgement and type no status or error code of their own."""
    paths = sorted((ROOT / "fpjs_conformance").glob("schemathesis*.py"))
    tree = ast.Module([n for path in paths for n in ast.parse(path.read_text(encoding="utf-8")).body], [])
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert {"fpjs_conformance.oracle", "fpjs_conformance.checks", "fpjs_conformance.rules"} <= imported
    statuses, codes = set(), set()
    for version in profiles.versions():
        p = profiles.load(version)
        statuses |= p.declared_statuses | {s for r in p.roles.values() for s in r.statuses}
        codes |= set(p.error_codes)
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert not [c for c in constants if isinstance(c, int) and not isinstance(c, bool) and c in statuses]
    assert not [c for c in constants if isinstance(c, str) and c in codes]


def test_covered_and_not_covered_split_the_catalogue(hooks):
    covered, not_covered = set(hooks.COVERED), set(hooks.NOT_COVERED)
    assert not covered & not_covered
    assert covered | not_covered == set(clauses.server_clauses())
    for version in profiles.versions():
        assert all(clauses.get(c).applies_to(version) for c in hooks.covered(profiles.load(version)))


# -- the read-back ---------------------------------------------------------------------------------------
class FakeWire:
    """The suite's transport stand-in: answers every read-back with `stored` in the event's container."""

    def __init__(self, profile, stored):
        self.profile, self.stored, self.sent = profile, stored, []

    def send(self, request, reserved=False, write=False):
        self.sent.append(request)
        node = self.stored
        for part in reversed(self.profile.read_back_container):
            node = {part: node}
        return Exchange(
            request,
            self.profile.read_back_method,
            "http://127.0.0.1:9/read",
            {},
            status=200,
            response_headers={"content-type": "application/json"},
            body=json.dumps(node).encode(),
            version=self.profile.version,
        )


@pytest.fixture
def read_back(hooks, monkeypatch):
    """Install a fake wire with these stored fields as the module's read-back transport."""
    from fpjs_conformance.ledger import Ledger
    from fpjs_conformance.model import Events
    from fpjs_conformance.target import Target

    def install(version: str, stored: dict) -> FakeWire:
        p = profiles.load(version)
        wire = FakeWire(p, stored)
        target = Target(p, "http://127.0.0.1:9", Events(LIVE), wire, Ledger(version), reads_back=True)
        monkeypatch.setattr(hooks, "read_back_target", lambda *a: target)
        return wire

    return install


def test_an_accepted_update_not_stored_fails_under_stored(hooks, read_back):
    wire = read_back("v4", {"linked_id": "before", "suspect": True})
    case = case_of("v4", headers={"Authorization": f"Bearer {KEY}"}, body={"linked_id": "after", "suspect": True})
    with pytest.raises(hooks.ClauseViolated) as caught:
        hooks.fpjs_stored(None, response_to(case, 200), case)
    assert caught.value.clause_id == "UE-SEM-01" and "'after'" in caught.value.message
    assert wire.sent and wire.sent[0].credentials == Credentials.of(header=VALID)
    assert KEY not in caught.value.message


def test_a_stored_update_passes_and_absent_fields_read_as_documented(hooks, read_back):
    read_back("v3", {"linkedId": "same"})  # suspect left out: reads as false
    case = case_of("v3", headers={"Auth-API-Key": KEY}, body={"linkedId": "same", "suspect": False, "x": 1})
    assert hooks.fpjs_stored(None, response_to(case, 200), case) is None


def test_no_read_back_after_a_refused_or_unknown_update(hooks, read_back):
    wire = read_back("v4", {})
    refused = case_of("v4", query={"api_key": KEY}, body={"linked_id": "a"})  # a retired place: refused
    assert hooks.fpjs_stored(None, response_to(refused, 200), refused) is True
    empty = case_of("v4", headers={"Authorization": f"Bearer {KEY}"}, body={})  # no known field
    assert hooks.fpjs_stored(None, response_to(empty, 200), empty) is True
    assert wire.sent == []


# -- feeding schemathesis -----------------------------------------------------------------------------------
def test_before_call_sends_updates_to_the_designated_event(hooks):
    case = case_of("v4", event_id="something-generated", body={"tags": {"n": 2**70}})
    hooks.before_call(None, case, {})
    assert case.path_parameters == {"event_id": quote(LIVE, safe="")}
    assert case.body == {"tags": {"n": 2**53}}  # within 2^53, as the suite's own generation


@pytest.mark.parametrize("version", profiles.versions())
def test_examples_carry_the_coverage_table_and_keep_its_ids(hooks, version):
    """The table's updates a schemathesis case can carry come back as themselves (id, body, credentials,
    extras), in the table's order; before_call leaves their ids alone (the table's unknown and odd ids)."""
    from fpjs_conformance import table_run

    p = profiles.load(version)
    settings = hooks.Settings.from_env()
    examples = hooks.designed_examples(operation(version), p, settings.api_key, hooks.events_of(settings))
    assert len(examples) > 50
    table = [r for c in table_run.cases(p, hooks.events_of(settings), wrong_region=False) for r in c.requests]
    back = [hooks.to_request(e, p, KEY) for e in examples]

    def same(r):  # the key places in any order: both go on the wire
        return (r.op, r.event_id, sorted(map(repr, r.credentials.items)), r.body, r.content_type, r.extra_query)

    fingerprints = [same(r) for r in table]
    at = -1  # the table's order (a replacement sequence stays a sequence): each example after the one before
    for r in back:  # (the table holds requests alike in all `same` compares: another method, other headers)
        at = next((i for i in range(at + 1, len(table)) if fingerprints[i] == same(r)), None)
        assert at is not None, f"{same(r)} is not in the table after the example before it"
    assert {r.event_id for r in back} - {LIVE}  # unknown and odd ids among them
    for example in examples:
        before = dict(example.path_parameters)
        hooks.before_call(None, example, {})
        assert example.path_parameters == before


def test_examples_get_every_credential_situation(hooks):
    for version in profiles.versions():
        p = profiles.load(version)
        examples: list = []
        hooks.before_add_examples(SimpleNamespace(operation=operation(version)), examples)
        draws = [Credentials.of(**{p.key_places[0].name: VALID}), *hooks.credential_draws(p)]
        situations = len(draws) + sum(hooks.refused(p, c) for c in draws)
        settings = hooks.Settings.from_env()
        designed = hooks.designed_examples(operation(version), p, settings.api_key, hooks.events_of(settings))
        assert len(examples) == situations + len(designed)  # then the coverage table's
        sent = [hooks.to_request(c, p, KEY) for c in examples[:situations]]
        assert {r.credentials for r in sent} == set(draws)
        assert {r.event_id for r in sent} == {LIVE}
        assert any(not r.body.present and hooks.refused(p, r.credentials) for r in sent)


def test_missing_environment_is_one_line(hooks, monkeypatch):
    schema = SimpleNamespace(raw_schema=profiles.load("v4").document)
    monkeypatch.delenv("FPJS_REQUEST_ID")
    monkeypatch.setenv("FPJS_EVENT_ID", LIVE)  # the alias
    hooks.after_load_schema(None, schema)
    monkeypatch.delenv("FPJS_EVENT_ID")
    with pytest.raises(hooks.SettingsError, match="FPJS_REQUEST_ID"):
        hooks.after_load_schema(None, schema)
    monkeypatch.setenv("FPJS_REQUEST_ID", LIVE)
    monkeypatch.setenv("FPJS_API_VERSION", "v3")
    with pytest.raises(hooks.SettingsError, match="v4's"):
        hooks.after_load_schema(None, schema)
    monkeypatch.setenv("FPJS_API_VERSION", "v9")
    with pytest.raises(hooks.SettingsError, match="unknown API version"):
        hooks.Settings.from_env()


def test_unregister_takes_everything_away(hooks):
    from schemathesis import hooks as st_hooks
    from schemathesis.checks import CHECKS

    hooks.unregister()
    assert not {"fpjs_clauses", "fpjs_stored"} & set(CHECKS.get_all_names())
    assert hooks.before_call not in st_hooks.get_all_by_name("before_call")
    hooks.register()
    hooks.register()  # idempotent
    assert st_hooks.get_all_by_name("before_call").count(hooks.before_call) == 1


# -- `schemathesis run` with the hooks -------------------------------------------------------------------------
def schemathesis_run(base_url: str, version: str, tmp_path: Path, *, examples: int = 20, seed: int = 1):
    """`schemathesis run` as a user types it, the key and the event in the environment; (exit code,
    output, the clauses its JUnit report names as failed)."""
    p = profiles.load(version)
    junit = tmp_path / f"junit-{version}.xml"
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", str(ROOT / "contracts" / p.document_name),
        "--url", base_url + p.server_path,
        "--include-operation-id", "updateEvent",
        "--phases", "examples,coverage,fuzzing",
        "--checks", "all", "--exclude-checks", EXCLUDED,
        "--max-examples", str(examples), "--seed", str(seed),
        "--generation-database", "none", "--continue-on-failure",
        "--suppress-health-check", "all",  # a busy machine generates slowly: not the server's fault
        "--request-timeout", "10", "--no-color",
        "--report", "junit", "--report-junit-path", str(junit),
    ]  # fmt: skip
    env = clean_env(
        FPJS_API_KEY=KEY, FPJS_REQUEST_ID=LIVE, SCHEMATHESIS_HOOKS=MODULE, PYTHONPATH=str(ROOT), NO_COLOR="1"
    )
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL
    )
    output = proc.stdout + proc.stderr
    report = junit.read_text(encoding="utf-8") if junit.is_file() else ""
    failed = set()
    if report:
        for failure in ET.fromstring(report).iter("failure"):
            failed |= {cid for v, cid in re.findall(r"^- ST901 \[(v\d+)\] (UE-[A-Z]+-\d+) ", failure.text or "", re.M)}
    return proc.returncode, output + report, failed


def _server(*args: str):
    return reference_server(KEY, *args)


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_schemathesis_finds_nothing_on_the_reference_server(version, tmp_path):
    with _server() as server:
        code, output, failed = schemathesis_run(server.url, version, tmp_path)
    assert (code, failed) == (0, set()), output[-3000:]
    assert "Examples" in output and KEY not in output


MUTANTS = [
    ("bad-request-wrong-code", "v4", "UE-RESP-05"),
    ("wrong-key-missing-code", "v3", "UE-AUTH-03"),
    ("auth-after-body", "v4", "UE-AUTH-07"),
    ("retired-query-honoured", "v4", "UE-AUTH-10"),
    ("update-not-stored", "v4", "UE-SEM-01"),
    # Reached every run by the suite's coverage table in the examples phase (`designed_examples`):
    ("not-found-wrong-code", "v3", "UE-ID-01"),  # a 404 carrying another role's code
    ("object-merged", "v3", "UE-SEM-01"),  # an object merged instead of replaced: its read-back
    ("object-merged", "v4", "UE-SEM-01"),
]


@pytest.mark.parametrize(("variant", "version", "clause"), MUTANTS, ids=[f"{m[0]}-{m[1]}" for m in MUTANTS])
def test_schemathesis_finds_each_mutant_under_its_clause(variant, version, clause, tmp_path):
    with _server("-m", "tests.variants", variant) as server:
        code, output, failed = schemathesis_run(server.url, version, tmp_path)
    assert code == 1, output[-3000:]
    assert clause in failed, (failed, output[-3000:])
    assert KEY not in output
