"""A faithful implementation of the update-event endpoint, every API version at once, one event store.

Each version is a `Dialect` built from that version's profile (path, method, field names, key
places and schemes, codes, limits, window, read-back shape), served under the path of the
version's servers: every version updates and reads the same events. The server reads the profile's facts
but none of the suite's checks or oracle (plain type tests, no jsonschema), so it can disagree
with them. Each step of request handling is a method taking the dialect, so the suite's own tests
build broken variants by overriding exactly one step, for every version at once.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fpjs_conformance import profile as profiles
from fpjs_conformance.profile import KeyPlace, Profile, Role

DAY = 24 * 3600
BODY_LIMIT = 1024 * 1024
MALFORMED = "\0malformed"  # what a key header without its scheme yields: never a key
FOREIGN = "foreign"  # the workspace of the other application's key and events


class Dialect:
    """One API version as the server speaks it (all from the version's profile)."""

    def __init__(self, profile: Profile):
        self.version = profile.version
        self.prefix = profile.server_path
        self.update_method = profile.update_method
        self.read_method = profile.read_back_method
        self.update_route = profile.path_for(profile.update_path, "{event_id:any}")
        self.read_route = profile.path_for(profile.read_back_path, "{event_id:any}")
        self.fields: dict[str, str] = dict(profile.field_names)  # wire name -> store name
        self.types: dict[str, str] = dict(profile.field_types)
        self.places: tuple[KeyPlace, ...] = profile.key_places
        self.roles: dict[str, Role] = dict(profile.roles)  # error role -> its status and code
        self.window = profile.update_window_days * DAY
        self.limits = profile.limits
        self.container = profile.read_back_container
        self.id_field, self.time_field = profile.id_field, profile.time_field
        self.read_back_template = profile.read_back_example()
        self.retry_after = profile.retry_after

    def wire(self, store_name: str) -> str:
        return next(w for w, s in self.fields.items() if s == store_name)

    def of_type(self, json_type: str) -> list[str]:
        return [name for name, kind in self.types.items() if kind == json_type]


@dataclass
class Event:
    event_id: str
    timestamp: float  # seconds since the epoch
    values: dict[str, Any] = field(default_factory=dict)  # store name -> value
    not_ready_for: int = 0  # how many more updates answer 409 not-ready
    workspace: str = ""  # the application the event belongs to: "" the main one, FOREIGN another


@dataclass(frozen=True)
class Seeded:
    event_id: str
    age_seconds: float
    not_ready_updates: int = 0
    workspace: str = ""


@dataclass
class Settings:
    api_key: str = "ref-secret-key-0123456789"
    wrong_region_api_keys: tuple[str, ...] = ("ref-eu-secret-key-0123456789",)
    request_id: str = "1708102555327.NLOjmg"  # fresh: updatable under every version
    older_request_id: str = "1708102555444.older1"  # between the two shortest windows (more: .older2, ...)
    expired_request_id: str = "1600000000000.expird"  # past every version's window
    not_ready_request_id: str = "1708102555999.notRdy"
    not_ready_updates: int = 2
    foreign_api_key: str = "ref-other-workspace-key-0123456789"  # the key of another application
    foreign_request_id: str = "1708102555600.foreig"  # an event of that application

    def seeded(self) -> list[Seeded]:
        """The seeded events, their ages from the update windows of every version: one inside every
        window, one between each pair of windows, one past them all (and the not-ready one)."""
        windows = sorted({profiles.load(v).update_window_days * DAY for v in profiles.versions()})
        events = [Seeded(self.request_id, windows[0] / 1000), Seeded(self.expired_request_id, windows[-1] * 4 / 3)]
        for i, (shorter, longer) in enumerate(itertools.pairwise(windows)):
            events.append(Seeded(self.between_id(i), (shorter + longer) / 2))
        events.append(Seeded(self.not_ready_request_id, windows[0] / 1000, self.not_ready_updates))
        events.append(Seeded(self.foreign_request_id, windows[0] / 1000, workspace=FOREIGN))
        return events

    def between_id(self, i: int) -> str:
        """The id of the event between the i-th and the next shortest window (`older_request_id` first)."""
        if i == 0:
            return self.older_request_id
        stamp, _, suffix = self.older_request_id.partition(".")
        return f"{int(stamp) + i}.{suffix[:-1]}{i + 1}"

    def expired_for(self, window_days: int) -> str | None:
        """The youngest seeded event past `window_days`: the sharpest test of a version's window."""
        past = [s for s in self.seeded() if s.age_seconds > window_days * DAY and not s.not_ready_updates]
        return min(past, key=lambda s: s.age_seconds).event_id if past else None


class Answer(Exception):
    """A finished response, raised from any handling step."""

    def __init__(self, response: Response):
        self.response = response


class ReferenceServer:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.lock = threading.Lock()
        self.events: dict[str, Event] = {}
        self.dialects = [Dialect(profiles.load(v)) for v in profiles.versions()]
        self.seed()

    # -- data -------------------------------------------------------------------------------------
    def seed(self) -> None:
        now = time.time()
        # Object fields start empty (a read-back shows `{}`), the others unset.
        empty = {d.fields[name]: {} for d in self.dialects for name in d.of_type("object")}
        self.events = {
            s.event_id: Event(
                s.event_id, now - s.age_seconds, dict(empty), not_ready_for=s.not_ready_updates, workspace=s.workspace
            )
            for s in self.settings.seeded()
        }

    # -- answers ----------------------------------------------------------------------------------
    def error(
        self, d: Dialect, role: str, message: str, *, status: int | None = None, code: str | None = None
    ) -> Answer:
        """An ErrorResponse as the dialect answers the error `role` (`missing_key`, `bad_request`, ...);
        `status` and `code` override it (what a broken variant does)."""
        answer = d.roles[role]
        body = {"error": {"code": code or answer.code, "message": message}}
        return Answer(JSONResponse(body, status_code=status or answer.status))

    def ok(self, d: Dialect) -> Response:
        return Response(status_code=200)

    # -- steps ------------------------------------------------------------------------------------
    def credentials(self, request: Request, d: Dialect) -> list[str]:
        """The keys the request carries in the dialect's places, in order; empty values do not count. A header
        value comes with its surrounding white space taken away (RFC 9110, 5.5); a query value is taken as
        sent: a key with white space around it is another key."""
        keys = []
        for place in d.places:
            if place.location == "query":
                value = request.query_params.get(place.field, "")
            else:
                value = self.scheme_value(request.headers.get(place.field, ""), place).strip()
            if value:
                keys.append(value)
        return keys

    def scheme_value(self, value: str, place: KeyPlace) -> str:
        """The key in a header value: after the place's scheme (any case, any spacing), if it has one."""
        if place.scheme is None or not value.strip():
            return value
        word, _, rest = value.strip().partition(" ")
        if word.lower() != place.scheme.lower():
            return MALFORMED
        return rest.strip()

    def authenticate(self, request: Request, d: Dialect) -> None:
        keys = self.credentials(request, d)
        if not keys:
            raise self.error(d, "missing_key", "secret key is required")
        if self.settings.api_key in keys or self.settings.foreign_api_key in keys:
            return
        if any(key in self.settings.wrong_region_api_keys for key in keys):
            raise self.error(d, "wrong_region", "wrong region")
        if MALFORMED in keys:
            raise self.error(d, "unreadable_key", f"the key must follow the {d.places[0].scheme} scheme")
        raise self.error(d, "wrong_key", "secret key is not found")

    def find_event(self, event_id: str, d: Dialect) -> Event:
        event = self.events.get(event_id)
        if event is None:
            raise self.error(d, "unknown_event", "event not found")
        return event

    def workspace(self, request: Request, d: Dialect) -> str:
        """The application the request's key belongs to."""
        return FOREIGN if self.settings.foreign_api_key in self.credentials(request, d) else ""

    def owned(self, event: Event, request: Request, d: Dialect) -> Event:
        """Another application's event is not found: its id tells nothing (RESTler's namespace rule)."""
        if event.workspace != self.workspace(request, d):
            raise self.error(d, "unknown_event", "event not found")
        return event

    def parse_body(self, raw: bytes, d: Dialect) -> dict[str, Any]:
        """The body as a JSON object of Unicode text; anything else is 400 (a lone surrogate escape is
        JSON but not Unicode: the contract leaves it open, and this server refuses it)."""
        bad = self.error(d, "bad_request", "request body is not valid")
        if not raw or len(raw) > BODY_LIMIT:
            raise bad
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_double)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError, ValueError, RecursionError):
            raise bad from None
        if not isinstance(value, dict):
            raise bad
        return value

    def validate(self, body: dict[str, Any], d: Dialect) -> None:
        def bad(why: str, role: str = "bad_request") -> Answer:
            return self.error(d, role, why)

        checks = {"string": lambda v: isinstance(v, str), "object": lambda v: isinstance(v, dict)}
        checks["boolean"] = lambda v: isinstance(v, bool)
        for name, kind in d.types.items():
            if name in body and not checks[kind](body[name]):
                raise bad(f"{name} must be a {kind}")
        if not any(name in body for name in d.types):
            raise bad(f"must provide one of: {', '.join(d.types)} to be updated", "empty_update")
        for name, limit in d.limits.items():
            if name in body and limit.exceeded_by(body[name]):
                raise bad(f"{limit.describe()}", "too_large")

    def update_of(self, body: dict[str, Any], d: Dialect) -> dict[str, Any]:
        """The known fields of a valid body, by their store names."""
        return {store: body[wire] for wire, store in d.fields.items() if wire in body}

    def check_mutable(self, event: Event, d: Dialect) -> None:
        if time.time() - event.timestamp > d.window:
            raise self.error(d, "expired_event", "the event is past its update window and cannot be updated")
        if event.not_ready_for > 0:
            event.not_ready_for -= 1
            raise self.error(d, "not_ready", "resource is not mutable yet, try again")

    def apply(self, event: Event, update: dict[str, Any]) -> None:
        event.values.update(update)

    def read(self, event: Event, d: Dialect) -> dict[str, Any]:
        """The event as the dialect's read-back shows it: every field the document requires."""
        body = copy.deepcopy(d.read_back_template)
        node = body
        for part in d.container:
            node = node.setdefault(part, {})
        node[d.id_field] = event.event_id
        node[d.time_field] = int(event.timestamp * 1000)
        for wire, store in d.fields.items():
            if event.values.get(store) is not None:
                node[wire] = event.values[store]
            else:
                node.pop(wire, None)
        return body

    # -- handlers ---------------------------------------------------------------------------------
    # The order in which an update may be refused: the key, then the body, then the event. A variant
    # that does these in another order sets another tuple.
    REFUSALS = ("key", "body", "event")

    async def update(self, request: Request, d: Dialect) -> Response:
        raw = await request.body()
        steps = {
            "key": lambda: self.authenticate(request, d),
            "body": lambda: self.validated_body(raw, d),
            "event": lambda: self.owned(self.find_event(request.path_params["event_id"], d), request, d),
        }
        try:
            found = {step: steps[step]() for step in self.REFUSALS}
            with self.lock:
                self.check_mutable(found["event"], d)
                self.apply(found["event"], self.update_of(found["body"], d))
            return self.ok(d)
        except Answer as answer:
            return answer.response

    def validated_body(self, raw: bytes, d: Dialect) -> dict[str, Any]:
        body = self.parse_body(raw, d)
        self.validate(body, d)
        return body

    async def get(self, request: Request, d: Dialect) -> Response:
        try:
            self.authenticate(request, d)
            with self.lock:
                event = self.owned(self.find_event(request.path_params["event_id"], d), request, d)
                return JSONResponse(self.read(event, d))
        except Answer as answer:
            return answer.response

    def handler(self, d: Dialect):
        async def endpoint(request: Request) -> Response:
            if request.method == d.update_method:
                return await self.update(request, d)
            return await self.get(request, d)

        return endpoint

    def app(self) -> Starlette:
        routes = []
        for d in self.dialects:
            if d.update_route == d.read_route:
                methods = sorted({d.update_method, d.read_method})
                routes.append(Route(d.prefix + d.update_route, self.handler(d), methods=methods))
            else:
                routes.append(Route(d.prefix + d.update_route, self.handler(d), methods=[d.update_method]))
                routes.append(Route(d.prefix + d.read_route, self.handler(d), methods=[d.read_method]))
        return Starlette(routes=routes)


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


def _double(text: str) -> float:
    """A JSON number with a fraction or exponent as a double; one past the double range (1e400) is refused,
    as it could not be read back as JSON (RFC 8259, 6 lets a server limit the range). Underflow rounds
    to zero, integers stay exact."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:40]} is past the range of a double")
    return value
