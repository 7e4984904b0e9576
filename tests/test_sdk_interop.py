"""Interop: the official Python SDK (`fingerprint-pro-server-api-sdk` 8.x, Server API v3) against the reference server.

The SDK is a real client of the endpoint: it appends `ii=<sdk>/<version>`, sends only the header key
(and no key at all when the key is empty), and turns 400/403/404/409 into `KnownApiException` with the
parsed `ErrorResponse` in `.structured_error`. If the reference server answered something the SDK cannot
parse, these tests fail with the SDK's own error.

Reading back: the SDK's `get_event` model demands every field the document marks required under
`products.identification.data`; the reference server's GET serves them all, so the SDK parses it.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator

import pytest

from fpjs_conformance.refserver import Settings
from tests.runner import Reference, throwaway_reference_server

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # "v3 is deprecated, migrate to v4" on import
    fp = pytest.importorskip("fingerprint_pro_server_api_sdk")
    from fingerprint_pro_server_api_sdk.rest import KnownApiException

DEFAULTS = Settings()
UNKNOWN_ID = "1000000000000.unknwn"
TIMEOUT = 10  # seconds per SDK call; this SDK takes only an int (it ignores a float: no timeout at all)


class Ref(Reference):
    """A reference server of our own, with throwaway keys, and SDK clients pointed at it."""

    version = "v3"

    def api(self, key: str | None = None) -> fp.FingerprintApi:
        cfg = fp.Configuration(api_key=self.api_key if key is None else key)
        cfg.host = self.url
        return fp.FingerprintApi(cfg)

    def update(self, body, request_id: str = DEFAULTS.request_id, key: str | None = None) -> None:
        """`update_event` through the SDK (which sets no timeout of its own)."""
        return self.api(key).update_event(body, request_id, _request_timeout=TIMEOUT)


@pytest.fixture(scope="module")
def ref() -> Iterator[Ref]:
    with throwaway_reference_server("sdk") as started:
        yield Ref(*started)


def error_of(call) -> tuple[int, str]:
    """(status, structured error code) of the KnownApiException that `call` must raise."""
    with pytest.raises(KnownApiException) as info:
        call()
    exc = info.value
    return exc.status, exc.structured_error.error.code


# -- valid updates --------------------------------------------------------------------------------
def test_update_linked_id(ref: Ref):
    assert ref.update(fp.EventsUpdateRequest(linked_id="sdk-linked-1")) is None
    assert ref.read_back()["linkedId"] == "sdk-linked-1"


def test_update_tag_nested(ref: Ref):
    tag = {"order": {"id": 42, "items": ["a", {"b": None}], "paid": True}, "score": 0.5}
    ref.update(fp.EventsUpdateRequest(tag=tag))
    assert ref.read_back()["tag"] == tag


@pytest.mark.parametrize("value", [True, False])
def test_update_suspect(ref: Ref, value: bool):
    """`suspect=False` is a real update: the SDK must send it and the server must store it."""
    ref.update(fp.EventsUpdateRequest(suspect=not value))
    ref.update(fp.EventsUpdateRequest(suspect=value))
    assert ref.read_back()["suspect"] is value


def test_update_is_partial(ref: Ref):
    """The SDK leaves unset fields out of the body, so an update of one field keeps the others."""
    ref.update(fp.EventsUpdateRequest(linked_id="keep-me", tag={"k": 1}, suspect=True))
    ref.update(fp.EventsUpdateRequest(linked_id="changed"))
    data = ref.read_back()
    assert (data["linkedId"], data["tag"], data["suspect"]) == ("changed", {"k": 1}, True)


def test_sdk_get_event_parses_reference_body(ref: Ref):
    ref.update(fp.EventsUpdateRequest(linked_id="via-sdk-get"))
    event = ref.api().get_event(DEFAULTS.request_id, _request_timeout=TIMEOUT)
    assert event.products.identification.data.linked_id == "via-sdk-get"


# -- structured errors ----------------------------------------------------------------------------
def test_400_empty_update(ref: Ref):
    """`EventsUpdateRequest()` serialises to `{}`: nothing to update."""
    assert error_of(lambda: ref.update(fp.EventsUpdateRequest())) == (400, "RequestCannotBeParsed")


def test_400_linked_id_too_long(ref: Ref):
    body = fp.EventsUpdateRequest(linked_id="x" * 257)
    assert error_of(lambda: ref.update(body)) == (400, "RequestCannotBeParsed")


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("", "TokenRequired"),  # the SDK sends no key at all when the key is empty
        ("wrong", "TokenNotFound"),
        ("wrong_region", "WrongRegion"),
    ],
)
def test_403(ref: Ref, key: str, code: str):
    value = {"": "", "wrong": "sdk-not-a-key-" + secrets.token_hex(8), "wrong_region": ref.wrong_region_api_key}[key]
    body = fp.EventsUpdateRequest(linked_id="never-stored")
    assert error_of(lambda: ref.update(body, key=value)) == (403, code)
    assert ref.read_back().get("linkedId") != "never-stored"


def test_404_unknown_id(ref: Ref):
    body = fp.EventsUpdateRequest(linked_id="x")
    assert error_of(lambda: ref.update(body, UNKNOWN_ID)) == (404, "RequestNotFound")


def test_409_not_ready_then_ok():
    """The not-ready event answers 409 StateNotReady to its first updates; the SDK does not retry."""
    with throwaway_reference_server("sdk") as started:  # own server: the 409 budget is this test's
        ref = Ref(*started)
        body = fp.EventsUpdateRequest(linked_id="after-409")
        for _ in range(DEFAULTS.not_ready_updates):
            assert error_of(lambda: ref.update(body, DEFAULTS.not_ready_request_id)) == (409, "StateNotReady")
        ref.update(body, DEFAULTS.not_ready_request_id)
        assert ref.read_back(DEFAULTS.not_ready_request_id)["linkedId"] == "after-409"


def test_sdk_request_shape(ref: Ref):
    """What the SDK puts on the wire: the header key only, the `ii` query parameter, a JSON body with `false`."""
    # The SDK sends through urllib3: record the arguments of its REST client call.
    api = ref.api()
    rest = api.api_client.rest_client
    original = rest.request
    captured: dict = {}

    def request(method, url, **kwargs):
        captured.update(method=method, url=url, **kwargs)
        return original(method, url, **kwargs)

    rest.request = request
    try:
        api.update_event(fp.EventsUpdateRequest(suspect=False), DEFAULTS.request_id, _request_timeout=TIMEOUT)
    finally:
        rest.request = original
    assert captured["method"] == "PUT"
    assert captured["url"].endswith(f"/events/{DEFAULTS.request_id}")
    assert [name for name, _ in captured["query_params"]] == ["ii"]
    assert captured["query_params"][0][1].startswith("fingerprint-pro-server-python-sdk/8.")
    assert captured["headers"]["Auth-API-Key"] == ref.api_key
    assert captured["body"] == {"suspect": False}
