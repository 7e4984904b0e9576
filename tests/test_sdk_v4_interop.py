"""Interop: the official Python SDK for Server API v4 (`fingerprint-server-sdk` 9.x) against the reference server.

The SDK is a real client of the endpoint: `PATCH {host}/events/{event_id}` where the default host ends
in `/v4`, the key as `Authorization: Bearer <key>` (with an empty key, `Bearer ` and no key), the
query parameter `ii=fingerprint-pro-server-python-sdk/<version>` and a User-Agent of the same value.
It raises one `ApiException` subclass per status (`BadRequestException` 400, `ForbiddenException` 403,
`NotFoundException` 404, `ConflictException` 409, ...) with the status in `.status`, the raw body in
`.body` and the body parsed into its `ErrorResponse` model in `.data` (`.data.error.code` is an
`ErrorCode`). The tests compare codes by identity with the SDK's declared `ErrorCode` members: the
enum accepts unknown strings too (`_missing_`), which would hide a code the SDK does not know.

Reading back: `get_event` parses the flat `Event`, whose model demands only `event_id` and
`timestamp` (an int); the reference server's read-back carries both, so the SDK parses it.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Settings
from tests.runner import Reference, throwaway_reference_server

fs = pytest.importorskip("fingerprint_server_sdk")
from fingerprint_server_sdk import ErrorCode, EventUpdate  # noqa: E402 - after the import-or-skip
from fingerprint_server_sdk.configuration import Region  # noqa: E402

DEFAULTS = Settings()
PROFILE = profiles.load("v4")
UNKNOWN_ID = "1000000000000.unknwn"
TIMEOUT = 10  # seconds per SDK call (the SDK sets none of its own)
# The path the SDK puts before `/events/...`: its default host is `https://api.fpjs.io/v4`.
SDK_PREFIX = urlsplit(fs.Configuration.get_host(Region.US)).path


class Ref(Reference):
    """A reference server of our own, with throwaway keys, and SDK clients pointed at it."""

    version = "v4"

    def api(self, key: str | None = None, url: str | None = None) -> fs.FingerprintApi:
        """`host` is the documented override of the region's base URL; the SDK appends `/events/...`."""
        cfg = fs.Configuration(api_key=self.api_key if key is None else key, host=(url or self.url) + SDK_PREFIX)
        return fs.FingerprintApi(cfg)

    def update(self, body: EventUpdate, event_id: str = DEFAULTS.request_id, key: str | None = None) -> None:
        return self.api(key).update_event(event_id, body, _request_timeout=TIMEOUT)


@pytest.fixture(scope="module")
def ref() -> Iterator[Ref]:
    with throwaway_reference_server("sdk4") as started:
        yield Ref(*started)


def error_of(call, exc_type: type[Exception]) -> tuple[int, ErrorCode]:
    """(status, parsed error code) of the `exc_type` that `call` must raise."""
    with pytest.raises(exc_type) as info:
        call()
    exc = info.value
    assert isinstance(exc.data, fs.ErrorResponse), f"the SDK did not parse the error body: {exc.body!r}"
    assert json.loads(exc.body)["error"]["code"] == exc.data.error.code.value
    return exc.status, exc.data.error.code


# -- what the SDK sends, as it arrives ------------------------------------------------------------
@dataclass
class Received:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # names in lower case
    body: bytes


class Recorder:
    """A loopback HTTP forwarder: records each request as it arrives on the wire, then passes it on to
    the reference server (same method, target and body) and relays the answer, so it still takes effect."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.received: list[Received] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                headers = {name.lower(): value for name, value in self.headers.items()}
                recorder.received.append(
                    Received(self.command, parts.path, parse_qsl(parts.query, keep_blank_values=True), headers, body)
                )
                # Values stripped: surrounding whitespace is not part of a field value (RFC 9110, 5.5).
                passed = {k: v.strip() for k, v in headers.items() if k not in ("host", "content-length", "connection")}
                answer = httpx.request(self.command, upstream + self.path, headers=passed, content=body, timeout=10)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", "application/octet-stream"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_PATCH = do_PUT = do_POST = forward

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


# -- valid updates --------------------------------------------------------------------------------
def test_update_linked_id(ref: Ref):
    assert ref.update(EventUpdate(linked_id="sdk4-linked-1")) is None
    assert ref.read_back()["linked_id"] == "sdk4-linked-1"


def test_update_tags_nested(ref: Ref):
    """Nested objects, arrays, nulls (inside and at the top of `tags`) and numbers survive the round trip."""
    tags = {"order": {"id": 42, "items": ["a", {"b": None}], "paid": True}, "score": 0.5, "note": None}
    ref.update(EventUpdate(tags=tags))
    assert ref.read_back()["tags"] == tags


@pytest.mark.parametrize("value", [True, False])
def test_update_suspect(ref: Ref, value: bool):
    """`suspect=False` is a real update: the SDK must send it and the server must store it."""
    ref.update(EventUpdate(suspect=not value))
    ref.update(EventUpdate(suspect=value))
    assert ref.read_back()["suspect"] is value


def test_update_is_partial(ref: Ref):
    """The SDK leaves unset fields out of the body, so an update of one field keeps the others."""
    ref.update(EventUpdate(linked_id="keep-me", tags={"k": 1}, suspect=True))
    ref.update(EventUpdate(linked_id="changed"))
    data = ref.read_back()
    assert (data["linked_id"], data["tags"], data["suspect"]) == ("changed", {"k": 1}, True)
    ref.update(EventUpdate(suspect=False))
    data = ref.read_back()
    assert (data["linked_id"], data["tags"], data["suspect"]) == ("changed", {"k": 1}, False)


def test_sdk_get_event_parses_reference_body(ref: Ref):
    tags = {"via": "sdk4", "n": [1, 2]}
    ref.update(EventUpdate(linked_id="via-sdk4-get", tags=tags, suspect=False))
    event = ref.api().get_event(DEFAULTS.request_id, _request_timeout=TIMEOUT)
    assert isinstance(event, fs.Event)
    assert (event.event_id, event.linked_id, event.tags, event.suspect) == (
        DEFAULTS.request_id,
        "via-sdk4-get",
        tags,
        False,
    )
    assert event.timestamp == ref.read_back()["timestamp"]


def test_sdk_get_event_unknown_id(ref: Ref):
    """The read-back's own 404 is an ErrorResponse the SDK parses too."""
    call = lambda: ref.api().get_event(UNKNOWN_ID, _request_timeout=TIMEOUT)  # noqa: E731
    assert error_of(call, fs.NotFoundException) == (404, ErrorCode.EVENT_NOT_FOUND)


# -- structured errors ----------------------------------------------------------------------------
def test_400_empty_update(ref: Ref):
    """`EventUpdate()` serialises to `{}`: nothing to update."""
    assert error_of(lambda: ref.update(EventUpdate()), fs.BadRequestException) == (
        400,
        ErrorCode.REQUEST_CANNOT_BE_PARSED,
    )


def test_400_linked_id_too_long(ref: Ref):
    """The SDK's model sets no length limit, so 257 characters reach the server, which refuses them."""
    limit = PROFILE.limits["linked_id"].max_chars
    body = EventUpdate(linked_id="x" * (limit + 1))
    assert error_of(lambda: ref.update(body), fs.BadRequestException) == (400, ErrorCode.REQUEST_CANNOT_BE_PARSED)
    ref.update(EventUpdate(linked_id="y" * limit))  # the limit itself is fine
    assert ref.read_back()["linked_id"] == "y" * limit


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("", ErrorCode.SECRET_API_KEY_REQUIRED),  # the SDK sends `Authorization: Bearer` with no key
        ("wrong", ErrorCode.SECRET_API_KEY_NOT_FOUND),
        ("wrong_region", ErrorCode.WRONG_REGION),
    ],
)
def test_403(ref: Ref, key: str, code: ErrorCode):
    value = {"": "", "wrong": "sdk4-not-a-key-" + secrets.token_hex(8), "wrong_region": ref.wrong_region_api_key}[key]
    body = EventUpdate(linked_id="never-stored")
    assert error_of(lambda: ref.update(body, key=value), fs.ForbiddenException) == (403, code)
    assert ref.read_back().get("linked_id") != "never-stored"


def test_empty_key_goes_out_as_bare_scheme(ref: Ref):
    """The SDK does not refuse an empty key: it sends the scheme alone, which the server takes as no key."""
    with Recorder(ref.url) as rec:
        call = lambda: ref.api("", url=rec.url).update_event(  # noqa: E731
            DEFAULTS.request_id, EventUpdate(linked_id="never-stored"), _request_timeout=TIMEOUT
        )
        assert error_of(call, fs.ForbiddenException) == (403, ErrorCode.SECRET_API_KEY_REQUIRED)
    [sent] = rec.received
    assert sent.headers["authorization"].strip() == "Bearer"  # `"Bearer " + api_key`


def test_404_unknown_id(ref: Ref):
    body = EventUpdate(linked_id="x")
    assert error_of(lambda: ref.update(body, UNKNOWN_ID), fs.NotFoundException) == (404, ErrorCode.EVENT_NOT_FOUND)


def test_409_not_ready_then_ok():
    """The not-ready event answers 409 state_not_ready to its first updates; the SDK does not retry."""
    with throwaway_reference_server("sdk4") as started:  # own server: the 409 budget is this test's
        ref = Ref(*started)
        body = EventUpdate(linked_id="after-409")
        for _ in range(DEFAULTS.not_ready_updates):
            assert error_of(lambda: ref.update(body, DEFAULTS.not_ready_request_id), fs.ConflictException) == (
                409,
                ErrorCode.STATE_NOT_READY,
            )
        ref.update(body, DEFAULTS.not_ready_request_id)
        assert ref.read_back(DEFAULTS.not_ready_request_id)["linked_id"] == "after-409"


def test_sdk_request_shape(ref: Ref):
    """What the SDK puts on the wire: PATCH, the v4 path, the Bearer key only, `ii`, a JSON body with `false`.

    Also that the contract's `[sdk]` facts (what the suite adds to mimic the SDK) are what it sends."""
    ref.update(EventUpdate(linked_id="before", suspect=True))
    with Recorder(ref.url) as rec:
        ref.api(url=rec.url).update_event(DEFAULTS.request_id, EventUpdate(suspect=False), _request_timeout=TIMEOUT)
    [sent] = rec.received
    assert sent.method == "PATCH" == PROFILE.update_method
    assert sent.path == f"/v4/events/{DEFAULTS.request_id}"
    assert sent.headers["authorization"] == f"Bearer {ref.api_key}"
    assert not {"auth-api-key", "api_key"} & {*sent.headers, *(name for name, _ in sent.query)}
    sdk_id = f"fingerprint-pro-server-python-sdk/{fs.__version__}"
    assert sent.query == [("ii", sdk_id)]
    assert sent.headers["user-agent"] == sdk_id
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.body) == {"suspect": False}
    assert b"false" in sent.body
    # The contract's SDK facts name the same parameter and header, for the same product.
    assert [name for name, _ in sent.query] == list(PROFILE.sdk_query)
    assert {name.lower() for name in PROFILE.sdk_headers} <= set(sent.headers)
    product = sdk_id.split("/")[0]
    assert {v.split("/")[0] for v in (*PROFILE.sdk_query.values(), *PROFILE.sdk_headers.values())} == {product}
    # It took effect: `false` is stored, the rest kept.
    data = ref.read_back()
    assert (data["suspect"], data["linked_id"]) == (False, "before")
