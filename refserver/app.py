"""A faithful implementation of PUT and GET /events/{request_id} (Server API v3).

Written independently of the suite's checks (plain type tests, no jsonschema) so that it can
disagree with them. Each step of request handling is a method, so the suite's own tests can
build broken variants by overriding exactly one step.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DAY = 24 * 3600
UPDATE_WINDOW = 10 * DAY
LINKED_ID_LIMIT = 256
TAG_LIMIT = 16 * 1024
BODY_LIMIT = 1024 * 1024
UPDATABLE = ("linkedId", "tag", "suspect")


@dataclass
class Event:
    request_id: str
    visitor_id: str
    timestamp: float  # seconds since the epoch
    linked_id: str | None = None
    tag: dict[str, Any] = field(default_factory=dict)
    suspect: bool | None = None
    not_ready_for: int = 0  # how many more updates answer 409 StateNotReady

    def identification(self) -> dict[str, Any]:
        """The event as `GET /events/{request_id}` shows it: every field the document requires."""
        seen = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.timestamp))
        data: dict[str, Any] = {
            "visitorId": self.visitor_id,
            "requestId": self.request_id,
            "browserDetails": {
                "browserName": "Chrome",
                "browserMajorVersion": "120",
                "browserFullVersion": "120.0.0",
                "os": "Linux",
                "osVersion": "6",
                "device": "Other",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0",
            },
            "incognito": False,
            "ip": "127.0.0.1",
            "timestamp": int(self.timestamp * 1000),
            "time": seen,
            "url": "https://example.com/checkout",
            "tag": self.tag,
            "visitorFound": True,
            "firstSeenAt": {"global": seen, "subscription": seen},
            "lastSeenAt": {"global": seen, "subscription": seen},
            "replayed": False,
        }
        if self.linked_id is not None:
            data["linkedId"] = self.linked_id
        if self.suspect is not None:
            data["suspect"] = self.suspect
        return data


@dataclass
class Settings:
    api_key: str = "ref-secret-key-0123456789"
    wrong_region_api_keys: tuple[str, ...] = ("ref-eu-secret-key-0123456789",)
    request_id: str = "1708102555327.NLOjmg"
    expired_request_id: str = "1600000000000.expird"
    not_ready_request_id: str = "1708102555999.notRdy"
    not_ready_updates: int = 2


class Answer(Exception):
    """A finished response, raised from any handling step."""

    def __init__(self, response: Response):
        self.response = response


class ReferenceServer:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.lock = threading.Lock()
        self.events: dict[str, Event] = {}
        self.seed()

    # -- data -------------------------------------------------------------------------------------
    def seed(self) -> None:
        s, now = self.settings, time.time()
        self.events = {
            s.request_id: Event(s.request_id, "Ibk1527CUFmcnjLwIs4A9", now - 60),
            s.expired_request_id: Event(s.expired_request_id, "Ibk1527CUFmcnjLwIs4A9", now - 11 * DAY),
            s.not_ready_request_id: Event(
                s.not_ready_request_id, "Ibk1527CUFmcnjLwIs4A9", now - 1, not_ready_for=s.not_ready_updates
            ),
        }

    # -- answers ----------------------------------------------------------------------------------
    def error(self, status: int, code: str, message: str) -> Answer:
        return Answer(JSONResponse({"error": {"code": code, "message": message}}, status_code=status))

    def ok(self) -> Response:
        return Response(status_code=200)

    # -- steps ------------------------------------------------------------------------------------
    def credentials(self, request: Request) -> list[str]:
        """The keys the request carries, header first; empty values do not count."""
        given = [request.headers.get("auth-api-key", ""), request.query_params.get("api_key", "")]
        return [key.strip() for key in given if key.strip()]

    def authenticate(self, request: Request) -> None:
        keys = self.credentials(request)
        if not keys:
            raise self.error(403, "TokenRequired", "secret key is required")
        if self.settings.api_key in keys:
            return
        if any(key in self.settings.wrong_region_api_keys for key in keys):
            raise self.error(403, "WrongRegion", "wrong region")
        raise self.error(403, "TokenNotFound", "secret key is not found")

    def find_event(self, request_id: str) -> Event:
        event = self.events.get(request_id)
        if event is None:
            raise self.error(404, "RequestNotFound", "request id not found")
        return event

    def parse_body(self, raw: bytes) -> dict[str, Any]:
        bad = self.error(400, "RequestCannotBeParsed", "request body is not valid")
        if not raw or len(raw) > BODY_LIMIT:
            raise bad
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise bad from None
        if not isinstance(value, dict):
            raise bad
        self.validate(value)
        return {name: value[name] for name in UPDATABLE if name in value}

    def validate(self, body: dict[str, Any]) -> None:
        def bad(why: str) -> Answer:
            return self.error(400, "RequestCannotBeParsed", why)

        if "linkedId" in body and not isinstance(body["linkedId"], str):
            raise bad("linkedId must be a string")
        if "tag" in body and not isinstance(body["tag"], dict):
            raise bad("tag must be an object")
        if "suspect" in body and not isinstance(body["suspect"], bool):
            raise bad("suspect must be a boolean")
        if not any(name in body for name in UPDATABLE):
            raise bad("must provide one of: linkedId, suspect, tags to be updated")
        if len(body.get("linkedId", "")) > LINKED_ID_LIMIT:
            raise bad(f"linkedId is longer than {LINKED_ID_LIMIT} characters")
        if "tag" in body and len(json.dumps(body["tag"], ensure_ascii=False).encode()) > TAG_LIMIT:
            raise bad(f"tag is larger than {TAG_LIMIT} bytes")

    def check_mutable(self, event: Event) -> None:
        if time.time() - event.timestamp > UPDATE_WINDOW:
            raise self.error(400, "Failed", "the event is more than 10 days old and cannot be updated")
        if event.not_ready_for > 0:
            event.not_ready_for -= 1
            raise self.error(409, "StateNotReady", "resource is not mutable yet, try again")

    def apply(self, event: Event, update: dict[str, Any]) -> None:
        if "linkedId" in update:
            event.linked_id = update["linkedId"]
        if "tag" in update:
            event.tag = update["tag"]
        if "suspect" in update:
            event.suspect = update["suspect"]

    def read(self, event: Event) -> dict[str, Any]:
        return {"products": {"identification": {"data": event.identification()}}}

    # -- handlers ---------------------------------------------------------------------------------
    async def put(self, request: Request) -> Response:
        try:
            self.authenticate(request)
            update = self.parse_body(await request.body())
            with self.lock:
                event = self.find_event(request.path_params["request_id"])
                self.check_mutable(event)
                self.apply(event, update)
            return self.ok()
        except Answer as answer:
            return answer.response

    async def get(self, request: Request) -> Response:
        try:
            self.authenticate(request)
            with self.lock:
                return JSONResponse(self.read(self.find_event(request.path_params["request_id"])))
        except Answer as answer:
            return answer.response

    def app(self) -> Starlette:
        async def events(request: Request) -> Response:
            return await (self.put(request) if request.method == "PUT" else self.get(request))

        return Starlette(routes=[Route("/events/{request_id:any}", events, methods=["PUT", "GET"])])


class AnyText(Convertor):
    """Like `path`, but also across decoded control characters (`%0A`): any id reaches the handler."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("any", AnyText())


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
