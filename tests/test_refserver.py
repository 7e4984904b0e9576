"""The reference server's fidelity to each version's document, checked with the documents' own schemas."""

import secrets

import httpx
import pytest

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Settings
from tests.runner import reference_server

KEY = "k" + secrets.token_hex(10)
IDS = Settings()


@pytest.fixture(scope="module")
def server():
    with reference_server(KEY) as s:
        yield s


def send(server, p, method, event_id, **kw):
    place = p.key_places[0]
    headers = {place.field: f"{place.scheme} {KEY}" if place.scheme else KEY}
    url = server.url + p.server_path + p.path_for(p.update_path, event_id)
    return httpx.request(method, url, headers=headers, timeout=5, **kw)


@pytest.mark.parametrize("version", profiles.versions())
def test_read_back_is_valid_against_the_document(server, version):
    p = profiles.load(version)
    values = {
        name: {"string": "x", "object": {"a": [1]}, "boolean": True}[kind] for name, kind in p.field_types.items()
    }
    assert send(server, p, p.update_method, IDS.request_id, json=values).status_code == 200
    body = send(server, p, p.read_back_method, IDS.request_id).json()
    schema = p.read_back_schema["$ref"].rsplit("/", 1)[-1]
    assert [e.message for e in p.validator(schema).iter_errors(body)] == []
    assert {k: p.stored(body)[k] for k in values} == values


@pytest.mark.parametrize("version", profiles.versions())
def test_errors_are_valid_error_responses_with_fitting_codes(server, version):
    p = profiles.load(version)
    for event_id, status in (("1000000000000.unknwn", 404), (IDS.request_id, 400)):
        r = send(
            server,
            p,
            p.update_method,
            event_id,
            content=b"{" if status == 400 else b'{"%s": "x"}' % p.fields[0].encode(),
        )
        assert r.status_code == status
        assert list(p.validator(p.error_schema_name(status)).iter_errors(r.json())) == []
        assert r.json()["error"]["code"] in p.codes_by_status[status]


@pytest.mark.parametrize("version", profiles.versions())
@pytest.mark.parametrize("event_id", ["a%0Ab", "%00", "x%2Fy", "%E2%9C%93", "9" * 500])
def test_any_id_reaches_the_handler(server, version, event_id):
    p = profiles.load(version)
    r = send(server, p, p.update_method, event_id, json={p.fields[0]: "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == p.role("unknown_event").code


def test_one_event_store_for_every_version(server):
    v3, v4 = profiles.load("v3"), profiles.load("v4")
    send(server, v3, v3.update_method, IDS.request_id, json={v3.fields[0]: "from-v3"})
    assert v4.stored(send(server, v4, "GET", IDS.request_id).json())[v4.fields[0]] == "from-v3"


def test_windows_differ_between_versions(server):
    """The 11-day-old event: past v3's window, inside v4's."""
    v3, v4 = profiles.load("v3"), profiles.load("v4")
    assert send(server, v3, v3.update_method, IDS.older_request_id, json={v3.fields[0]: "x"}).status_code == 400
    assert send(server, v4, v4.update_method, IDS.older_request_id, json={v4.fields[0]: "x"}).status_code == 200


def test_help_names_defaults_and_environment_variables():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "fpjs_conformance.refserver", "--help"], capture_output=True, text=True, timeout=30
    )
    for needle in ("FPJS_REF_API_KEY", IDS.api_key, IDS.request_id, "FPJS_REF_WRONG_REGION_API_KEY", "/v4/events"):
        assert needle in out.stdout, needle


@pytest.mark.parametrize("version", profiles.versions())
@pytest.mark.parametrize(
    ("number", "status"),
    [("1e400", 400), ("-1e400", 400), ("1e-400", 200), ("5e-324", 200), ("1" + "0" * 400, 200), ("1.5", 200)],
)
def test_a_number_past_a_double_is_refused_and_the_read_back_stays_json(server, version, number, status):
    """Issue 23: `{"tags": {"n": 1e400}}` was answered 200 and broke every later read-back (500, plain text)."""
    p = profiles.load(version)
    holder = p.fields_of_type("object")[0]
    body = f'{{"{holder}": {{"fpjs": "numbers", "n": {number}}}}}'.encode()
    place = p.key_places[0]
    headers = {place.field: f"{place.scheme} {KEY}" if place.scheme else KEY, "Content-Type": "application/json"}
    url = server.url + p.server_path + p.path_for(p.update_path, IDS.request_id)
    sent = httpx.request(p.update_method, url, headers=headers, content=body, timeout=5)
    assert sent.status_code == status
    back = send(server, p, p.read_back_method, IDS.request_id)
    assert back.status_code == 200 and back.headers["content-type"].startswith("application/json")
    stored = p.stored(back.json())[holder]
    if status == 200:
        assert isinstance(stored["n"], int | float) and not isinstance(stored["n"], bool)
    schema = p.read_back_schema_name
    assert [e.message for e in p.validator(schema).iter_errors(back.json())] == []
