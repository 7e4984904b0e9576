"""The reference server's fidelity to the document, checked with the document's own schemas."""

import secrets

import httpx
import pytest

from contracts import spec
from refserver import Settings
from tests.runner import reference_server

KEY = "k" + secrets.token_hex(10)
IDS = Settings()


@pytest.fixture(scope="module")
def server():
    with reference_server(KEY) as s:
        yield s


def test_get_event_is_a_valid_events_get_response(server):
    httpx.put(
        f"{server.url}/events/{IDS.request_id}",
        headers={"Auth-API-Key": KEY},
        json={"linkedId": "x", "tag": {"a": [1]}, "suspect": True},
        timeout=5,
    )
    body = httpx.get(f"{server.url}/events/{IDS.request_id}", headers={"Auth-API-Key": KEY}, timeout=5).json()
    errors = [e.message for e in spec.validator("EventsGetResponse").iter_errors(body)]
    assert errors == []


@pytest.mark.parametrize("request_id", ["a%0Ab", "%00", "x%2Fy", "%E2%9C%93", "9" * 500])
def test_any_id_reaches_the_handler(server, request_id):
    r = httpx.put(f"{server.url}/events/{request_id}", headers={"Auth-API-Key": KEY}, json={"linkedId": "x"}, timeout=5)
    assert r.status_code == 404 and r.json()["error"]["code"] == "RequestNotFound"
