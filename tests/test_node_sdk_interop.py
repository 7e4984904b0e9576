"""Interop: the official Node SDK (`@fingerprint/node-sdk` 7.x, Server API v4) against the reference server.

The SDK has no base-URL option: it builds `https://api.fpjs.io/v4/events/{id}?ii=...` from its region
(src/urlUtils.ts). Its documented `fetch` option is the seam: tests/node/interop.mjs passes a fetch
that sends the SDK's request unchanged (method, path, query, headers, body) to the reference server
instead of that origin, and records it. Everything else is the SDK's own: URL and body building,
the Bearer header, and turning answers into values or errors. A structured error is a
`ServerApiError` (a `RequestError`, an `SdkError`) with `.statusCode`, `.errorCode` and the parsed
`.responseBody`.

Needs Node 20+ and the locked modules: `npm ci --prefix tests/node`. Skips only when `node` or the
installed SDK is missing.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Settings
from tests.runner import Reference, throwaway_reference_server

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "interop.mjs"
SDK_PACKAGE = NODE_DIR / "node_modules" / "@fingerprint" / "node-sdk" / "package.json"
INSTALL = "npm ci --prefix tests/node"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="`node` (Node.js 20+) is not on PATH"),
    pytest.mark.skipif(not SDK_PACKAGE.is_file(), reason=f"@fingerprint/node-sdk is not installed: run `{INSTALL}`"),
]

DEFAULTS = Settings()
PROFILE = profiles.load("v4")
UNKNOWN_ID = "1000000000000.unknwn"


def sdk_version() -> str:
    return json.loads(SDK_PACKAGE.read_text(encoding="utf-8"))["version"]


class Ref(Reference):
    """A reference server of our own, with throwaway keys, and the Node SDK pointed at it."""

    version = "v4"

    def run(self, *calls: dict) -> list[dict]:
        """The SDK calls, in one Node process, in order; one result each (see tests/node/interop.mjs)."""
        plan = {"target": self.url, "apiKey": self.api_key, "calls": list(calls)}  # keys via stdin, not argv
        done = subprocess.run(
            [NODE, str(SCRIPT)], input=json.dumps(plan), capture_output=True, text=True, timeout=60, cwd=NODE_DIR
        )
        assert done.returncode == 0, done.stderr
        results = json.loads(done.stdout)
        assert len(results) == len(calls), done.stdout
        return results

    def update(self, body: dict, event_id: str = DEFAULTS.request_id, key: str | None = None) -> dict:
        call = {"call": "updateEvent", "eventId": event_id, "body": body}
        return self.run(call if key is None else {**call, "apiKey": key})[0]


@pytest.fixture(scope="module")
def ref() -> Iterator[Ref]:
    with throwaway_reference_server("node") as started:
        yield Ref(*started)


def ok(result: dict) -> object:
    assert result["ok"], result["error"]
    return result["value"]


def error_of(result: dict) -> tuple[int, str]:
    """(status, error code) of the `ServerApiError` the call must have thrown."""
    assert not result["ok"], result
    error = result["error"]
    assert (error["name"], error["isServerApiError"], error["isRequestError"], error["isSdkError"]) == (
        "ServerApiError",
        True,
        True,
        True,
    ), error
    assert error["responseBody"]["error"]["code"] == error["errorCode"]
    return error["statusCode"], error["errorCode"]


def test_installed_sdk_is_7x():
    assert sdk_version().startswith("7."), f"tests/node/package-lock.json should pin 7.x; run `{INSTALL}`"


# -- valid updates --------------------------------------------------------------------------------
def test_update_linked_id(ref: Ref):
    assert ok(ref.update({"linked_id": "node-linked-1"})) is None
    assert ref.read_back()["linked_id"] == "node-linked-1"


def test_update_tags_nested(ref: Ref):
    tags = {"order": {"id": 42, "items": ["a", {"b": None}], "paid": True}, "score": 0.5, "note": None}
    ok(ref.update({"tags": tags}))
    assert ref.read_back()["tags"] == tags


@pytest.mark.parametrize("value", [True, False])
def test_update_suspect(ref: Ref, value: bool):
    """`suspect: false` is a real update: the SDK must send it and the server must store it."""
    ok(ref.update({"suspect": not value}))
    ok(ref.update({"suspect": value}))
    assert ref.read_back()["suspect"] is value


def test_update_is_partial(ref: Ref):
    ok(ref.update({"linked_id": "keep-me", "tags": {"k": 1}, "suspect": True}))
    ok(ref.update({"linked_id": "changed"}))
    data = ref.read_back()
    assert (data["linked_id"], data["tags"], data["suspect"]) == ("changed", {"k": 1}, True)


def test_sdk_get_event_parses_reference_body(ref: Ref):
    """`getEvent` checks the status and the JSON content type and parses the body (it validates no fields)."""
    tags = {"via": "node", "n": [1, 2]}
    update, get = ref.run(
        {"call": "updateEvent", "eventId": DEFAULTS.request_id, "body": {"linked_id": "via-node-get", "tags": tags}},
        {"call": "getEvent", "eventId": DEFAULTS.request_id},
    )
    ok(update)
    event = ok(get)
    assert event == ref.read_back()
    assert (event["event_id"], event["linked_id"], event["tags"]) == (DEFAULTS.request_id, "via-node-get", tags)
    assert isinstance(event["timestamp"], int)


# -- structured errors ----------------------------------------------------------------------------
def answer(role: str) -> tuple[int, str]:
    """(status, code) the reference server answers an error role with, as the profile gives it."""
    return PROFILE.role(role).status, PROFILE.role(role).code


def test_400_empty_update(ref: Ref):
    assert error_of(ref.update({})) == answer("bad_request")


def test_400_linked_id_too_long(ref: Ref):
    too_long = "x" * (PROFILE.limits["linked_id"].max_chars + 1)
    assert error_of(ref.update({"linked_id": too_long})) == answer("too_large")


@pytest.mark.parametrize(("key", "role"), [("wrong", "wrong_key"), ("wrong_region", "wrong_region")])
def test_403(ref: Ref, key: str, role: str):
    value = {"wrong": "node-not-a-key-" + secrets.token_hex(8), "wrong_region": ref.wrong_region_api_key}[key]
    assert error_of(ref.update({"linked_id": "never-stored"}, key=value)) == answer(role)
    assert ref.read_back().get("linked_id") != "never-stored"


def test_empty_key_is_refused_before_any_request(ref: Ref):
    """The SDK cannot send a request without a key: its constructor throws (a plain Error, not an SdkError)."""
    [result] = ref.run({"call": "construct", "apiKey": ""})
    assert not result["ok"]
    assert (result["error"]["name"], result["error"]["message"]) == ("Error", "Api key is not set")
    assert result["requests"] == []


def test_404_unknown_id(ref: Ref):
    update, get = ref.run(
        {"call": "updateEvent", "eventId": UNKNOWN_ID, "body": {"linked_id": "x"}},
        {"call": "getEvent", "eventId": UNKNOWN_ID},
    )
    assert error_of(update) == answer("unknown_event")
    assert error_of(get) == answer("unknown_event")


def test_409_not_ready_then_ok():
    """The not-ready event answers 409 state_not_ready to its first updates; the SDK does not retry."""
    with throwaway_reference_server("node") as started:  # own server: the 409 budget is this test's
        ref = Ref(*started)
        call = {"call": "updateEvent", "eventId": DEFAULTS.not_ready_request_id, "body": {"linked_id": "after-409"}}
        *refused, accepted = ref.run(*[call] * (DEFAULTS.not_ready_updates + 1))
        for result in refused:
            assert error_of(result) == answer("not_ready")
            assert len(result["requests"]) == 1
        ok(accepted)
        assert ref.read_back(DEFAULTS.not_ready_request_id)["linked_id"] == "after-409"


def test_sdk_request_shape(ref: Ref):
    """What the SDK hands to fetch: PATCH, the v4 path, the Bearer key only, `ii`, a JSON body with `false`."""
    ok(ref.update({"linked_id": "before", "suspect": True}))
    result = ref.update({"suspect": False})
    ok(result)
    [sent] = result["requests"]
    url = urlsplit(sent["url"])
    assert sent["method"] == "PATCH" == PROFILE.update_method
    assert (url.scheme, url.netloc, url.path) == ("https", "api.fpjs.io", f"/v4/events/{DEFAULTS.request_id}")
    assert parse_qsl(url.query) == [("ii", f"fingerprint-pro-server-node-sdk/{sdk_version()}")]
    assert sent["headers"]["authorization"] == f"Bearer {ref.api_key}"
    # The SDK sets no Content-Type: fetch labels the string body with its default for strings.
    assert sent["headers"]["content-type"] == "text/plain;charset=UTF-8"
    assert "user-agent" not in sent["headers"]  # none of its own (fetch adds its default on the wire)
    assert sent["body"] == '{"suspect":false}'
    data = ref.read_back()
    assert (data["suspect"], data["linked_id"]) == (False, "before")
