"""What a request leaves behind (issue 23): servers that store what they refuse, take methods and ids
the document does not name, break their own read-back, or show another workspace's event; and the
correct ones that differ (reads that lag, 404 to undeclared methods, a trailing slash folded).

Each is built the way such a server is, not by one step of the reference server: a handler that
applies field by field as it validates them, a router that answers every method or normalises the
path before it routes, a store that stamps a modification time, a read-back rendered by another
encoder, a key compared as it came in the query's raw text.
"""

import copy
import json
import re
import threading
import time
from urllib.parse import unquote

from starlette.responses import JSONResponse, PlainTextResponse, Response

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Answer, ReferenceServer
from tests.variants import control, mutant


def _with_path(scope, path: str):
    raw = path.encode("latin-1", errors="replace")
    return {**scope, "path": path, "raw_path": raw}


class Routed(ReferenceServer):
    """Base: an ASGI front that may answer a request itself (`front`) before the reference server's router."""

    async def front(self, scope, receive, send):
        return False

    def app(self):
        inner = super().app()

        async def app(scope, receive, send):
            if scope["type"] == "http" and await self.front(scope, receive, send):
                return
            await inner(scope, receive, send)

        return app


# -- requests that must change nothing, and change something --------------------------------------
@mutant("writes-as-it-validates", "UE-STATE-02", coverage_only=True)
class WritesAsItValidates(ReferenceServer):
    """An active-record handler: each member of the body is assigned to the event as soon as its own
    type checks out, so a body whose later member is wrong is refused (400) with the earlier ones already
    written."""

    async def update(self, request, d):
        raw = await request.body()
        try:
            self.authenticate(request, d)
            body = self.parse_body(raw, d)
            event = self.owned(self.find_event(request.path_params["event_id"], d), request, d)
            checks = {"string": str, "object": dict, "boolean": bool}
            with self.lock:
                for name, value in body.items():
                    if name not in d.types:
                        continue
                    if not isinstance(value, checks[d.types[name]]):
                        raise self.error(d, "bad_request", f"{name} must be a {d.types[name]}")
                    event.values[d.fields[name]] = value  # assigned as soon as it checks out
            self.validate(body, d)
            with self.lock:
                self.check_mutable(event, d)
            return self.ok(d)
        except Answer as answer:
            return answer.response


@mutant("key-checked-after-write", "UE-STATE-02", "UE-AUTH-01", "UE-AUTH-03", coverage_only=True)
class KeyCheckedAfterWrite(ReferenceServer):
    """Writes the update, then asks the auth service (a middleware placed after the handler): a wrong key is
    refused (403) with the update already stored."""

    async def update(self, request, d):
        raw = await request.body()
        try:
            body = self.validated_body(raw, d)
            event = self.find_event(request.path_params["event_id"], d)
            with self.lock:
                self.apply(event, self.update_of(body, d))
        except Answer:
            pass
        return await super().update(request, d)


@mutant("stamps-modification-time", "UE-STATE-01", coverage_only=True)
class StampsModificationTime(ReferenceServer):
    """Keeps a modification time in the event's own time field: every accepted update moves `timestamp`."""

    def apply(self, event, update):
        super().apply(event, update)
        event.timestamp = time.time()


@mutant("binds-read-only-members", "UE-STATE-01", coverage_only=True)
class BindsReadOnlyMembers(ReferenceServer):
    """Mass assignment: every body member that names a member of the event's read-back (url, ip, the time,
    ...) is bound onto the stored event, as an ORM's `update(**body)` does."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self.bound: dict[str, dict] = {}

    def update_of(self, body, d):
        members = profiles.load(d.version).read_back_members
        extra = {k: v for k, v in body.items() if k in members}
        return {**super().update_of(body, d), "__bound__": extra}

    def apply(self, event, update):
        extra = update.pop("__bound__", {})
        self.bound.setdefault(event.event_id, {}).update(extra)
        super().apply(event, update)

    def read(self, event, d):
        body = super().read(event, d)
        node = body
        for part in d.container:
            node = node[part]
        for name, value in self.bound.get(event.event_id, {}).items():
            if name != d.id_field:
                node[name] = value
        return body


# -- the read-back itself ------------------------------------------------------------------------
@mutant("read-back-breaks-on-numbers", "UE-STATE-03", "UE-BODY-11", coverage_only=True)
class ReadBackBreaksOnNumbers(ReferenceServer):
    """Takes a number past a double as infinity and stores it; from then on the read-back fails in its
    encoder (500, plain text): the reference server's own defect before issue 23."""

    def parse_body(self, raw, d):
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_refuse)  # 1e400 is inf; NaN is refused
        except (UnicodeDecodeError, ValueError, RecursionError):
            return super().parse_body(raw, d)
        return value if isinstance(value, dict) else super().parse_body(raw, d)

    async def get(self, request, d):
        try:
            return await super().get(request, d)
        except ValueError:  # Starlette's JSONResponse refuses infinity
            return PlainTextResponse("Internal Server Error", status_code=500)


def _refuse(name):
    raise ValueError(name)


@mutant("read-back-infinity-literal", "UE-STATE-03", "UE-BODY-11", "UE-SEM-01", coverage_only=True)
class ReadBackInfinityLiteral(ReadBackBreaksOnNumbers):
    """Renders the read-back with a JavaScript-minded encoder (`allow_nan`): a stored overflow reads back
    as `Infinity`, which is not JSON."""

    async def get(self, request, d):
        try:
            self.authenticate(request, d)
            with self.lock:
                event = self.owned(self.find_event(request.path_params["event_id"], d), request, d)
                text = json.dumps(self.read(event, d), allow_nan=True)
            return Response(text, media_type="application/json")
        except Answer as answer:
            return answer.response


@mutant("read-back-as-text", "UE-STATE-03", coverage_only=True)
class ReadBackAsText(ReferenceServer):
    """Answers the read-back with `Content-Type: text/plain` (a handler that writes the JSON string itself)."""

    async def get(self, request, d):
        response = await super().get(request, d)
        if response.status_code == 200:
            return Response(response.body, status_code=200, media_type="text/plain")
        return response


@mutant("read-back-drops-required", "UE-STATE-04", "UE-STATE-01", coverage_only=True, strict=True)
class ReadBackDropsRequired(ReferenceServer):
    """Leaves out a member the read-back's schema requires (the event's time) once the event was updated:
    a projection of the changed row only. The first update that drops it changed a member it did not name
    (UE-STATE-01); the schema clause is a SHOULD (judged under --strict): under a version whose first read
    came after that update (one store for both), only the schema says what is wrong."""

    def read(self, event, d):
        body = super().read(event, d)
        node = body
        for part in d.container:
            node = node[part]
        if any(v not in (None, {}) for v in event.values.values()):
            node.pop(d.time_field, None)
        return body


# -- methods the document does not declare ----------------------------------------------------------
@mutant("any-method-updates", "UE-HTTP-03", "UE-STATE-02", coverage_only=True)
class AnyMethodUpdates(Routed):
    """A router without a method filter on the event's path: POST, DELETE, the other version's method, an
    unknown one all reach the update handler and write."""

    async def front(self, scope, receive, send):
        for d in self.dialects:
            if scope["method"] in (d.update_method, d.read_method, "HEAD", "TRACE"):
                continue
            if scope["path"].startswith(d.prefix + "/events/"):
                await super().app()({**scope, "method": d.update_method}, receive, send)
                return True
        return False


@mutant("other-version-method-replaces", "UE-HTTP-03", "UE-STATE-02", coverage_only=True)
class OtherVersionMethodReplaces(Routed):
    """Serves both versions from one handler table: the other version's update method is taken too, with
    its semantics elsewhere (a full replace: fields not sent are cleared), and answered 200."""

    async def front(self, scope, receive, send):
        methods = {d.update_method for d in self.dialects}
        for d in self.dialects:
            other = methods - {d.update_method}
            if scope["method"] in other and scope["path"].startswith(d.prefix + "/events/"):
                event_id = unquote(scope["path"][len(d.prefix + "/events/") :])
                body = b""
                while True:
                    message = await receive()
                    body += message.get("body", b"")
                    if not message.get("more_body"):
                        break
                try:
                    value = json.loads(body or b"{}")
                    event = self.events[event_id]
                    event.values = {s: ({} if d.types[w] == "object" else None) for w, s in d.fields.items()}
                    event.values.update({s: value[w] for w, s in d.fields.items() if w in value})
                except (ValueError, KeyError):
                    pass
                await Response(status_code=200)(scope, receive, send)
                return True
        return False


@mutant("unknown-method-crash", "UE-HTTP-03", coverage_only=True)
class UnknownMethodCrash(Routed):
    """Looks the method up in a table of handlers without a default: a method it has never heard of is a
    500."""

    async def front(self, scope, receive, send):
        if scope["method"] not in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"):
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            return True
        return False


@control("undeclared-methods-404")
class UndeclaredMethods404(Routed):
    """Answers 404 (an ErrorResponse body) to every method it does not serve on the event's path, as
    routers that match method and path together do."""

    async def front(self, scope, receive, send):
        for d in self.dialects:
            if scope["method"] not in (d.update_method, d.read_method, "HEAD") and scope["path"].startswith(
                d.prefix + "/events/"
            ):
                body = {"error": {"code": d.roles["unknown_event"].code, "message": "not found"}}
                await JSONResponse(body, status_code=404)(scope, receive, send)
                return True
        return False


# -- ids that lead elsewhere ------------------------------------------------------------------------
MATRIX = re.compile(r";[^/]*")


@mutant("router-normalises-paths", "UE-ID-04", "UE-STATE-02", coverage_only=True)
class RouterNormalisesPaths(Routed):
    """A front proxy that normalises paths before routing, as servlet containers and some proxies do: strips
    matrix parameters and a format suffix, merges doubled slashes, and decodes percent-encodings twice."""

    async def front(self, scope, receive, send):
        raw = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        path = MATRIX.sub("", raw)
        path = re.sub(r"\.json$", "", path)
        path = re.sub(r"/{2,}", "/", path)
        path = unquote(unquote(path))
        if path != scope["path"]:
            await super().app()(_with_path(scope, path), receive, send)
            return True
        return False


@control("trailing-slash-folded")
class TrailingSlashFolded(Routed):
    """Folds a trailing slash on the event's path (`/events/<id>/` is `/events/<id>`), as common routers do."""

    async def front(self, scope, receive, send):
        path = scope["path"]
        if path.endswith("/") and "/events/" in path and path.rstrip("/") != path:
            await super().app()(_with_path(scope, path.rstrip("/")), receive, send)
            return True
        return False


# -- another workspace's event ----------------------------------------------------------------------
@mutant("foreign-event-updatable", "UE-ID-05", "UE-STATE-02", coverage_only=True)
class ForeignEventUpdatable(ReferenceServer):
    """Finds events by id alone: any valid key updates (and reads) any workspace's event."""

    def owned(self, event, request, d):
        return event


@mutant("foreign-event-forbidden", "UE-ID-05", coverage_only=True)
class ForeignEventForbidden(ReferenceServer):
    """Answers another workspace's event with 403 (and the wrong-key code): the id is known to exist."""

    def owned(self, event, request, d):
        if event.workspace != self.workspace(request, d):
            raise self.error(d, "wrong_key", "this event belongs to another workspace")
        return event


# -- the key with white space around it ---------------------------------------------------------------
@mutant("query-key-trimmed", "UE-AUTH-03", versions=("v3",), coverage_only=True)
class QueryKeyTrimmed(ReferenceServer):
    """Trims the query parameter's value before comparing it (a form-parsing habit): ` <key>\\t` passes."""

    def credentials(self, request, d):
        keys = super().credentials(request, d)
        return [k.strip() for k in keys]


@mutant("scheme-one-space-only", "UE-AUTH-04", versions=("v4",), coverage_only=True)
class SchemeOneSpaceOnly(ReferenceServer):
    """Splits `Authorization` on exactly one space: `Bearer   <key>` (1*SP, RFC 9110, 11.4) is refused."""

    def scheme_value(self, value, place):
        if place.scheme and value.count(" ") > 1 and value.lower().startswith(place.scheme.lower() + "  "):
            return "\0malformed"
        return super().scheme_value(value, place)


# -- reads that lag: a control -----------------------------------------------------------------------
@control("reads-lag")
class ReadsLag(ReferenceServer):
    """A distributed store: a read shows the event as it was 300 ms ago (each write replicates late), well
    within the settle time (the suite's default 2 s, the self-test's 1 s)."""

    LAG = 0.3

    def __init__(self, settings=None):
        super().__init__(settings)
        self.history: dict[str, list[tuple[float, dict]]] = {}
        self.history_lock = threading.Lock()

    def apply(self, event, update):
        with self.history_lock:
            past = self.history.setdefault(event.event_id, [(0.0, copy.deepcopy(event.values))])
            super().apply(event, update)
            past.append((time.monotonic(), copy.deepcopy(event.values)))

    def read(self, event, d):
        with self.history_lock:
            past = self.history.get(event.event_id)
            if past:
                seen = [values for at, values in past if at <= time.monotonic() - self.LAG]
                shown = copy.copy(event)
                shown.values = seen[-1] if seen else past[0][1]
                return super().read(shown, d)
        return super().read(event, d)
