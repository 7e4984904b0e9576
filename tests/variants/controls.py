"""Controls: servers that differ from the reference but keep the contract. The suite must pass them
all, under every version; a failure here is a false alarm the suite would raise against a correct
server."""

import asyncio
import json
import threading
import time

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import JSONResponse, Response

from fpjs_conformance.refserver import Answer, ReferenceServer
from tests.variants import answer_of, control


@control("different-wording")
class DifferentWording(ReferenceServer):
    """Error messages in other words."""

    def error(self, d, role, message, *, status=None, code=None):
        shown = answer_of(d, role, status, code)[1]
        return super().error(d, role, f"[{shown}] something else entirely", status=status, code=code)


@control("messages-with-links")
class MessagesWithLinks(ReferenceServer):
    """Long messages that carry suggestions, links and quotes (as v4's do)."""

    def error(self, d, role, message, *, status=None, code=None):
        text = (
            f'{message}. Suggestion: check the "{role}" docs at https://docs.fingerprint.com/reference/errors#{role} '
            "or contact support@fingerprint.com <support>; trace id 7f3a\u2026"
        )
        return super().error(d, role, text, status=status, code=code)


EXTRA_HEADERS = {"X-Request-Id": "ctl-0001", "Cache-Control": "no-store", "Vary": "Authorization, Auth-API-Key"}


@control("extra-headers-charset")
class ExtraHeadersCharset(ReferenceServer):
    """Extra response headers, and `charset=utf-8` on the JSON content type."""

    def error(self, d, role, message, *, status=None, code=None):
        response = super().error(d, role, message, status=status, code=code).response
        response.headers.update({**EXTRA_HEADERS, "Content-Type": "application/json; charset=utf-8"})
        return Answer(response)

    def ok(self, d):
        response = super().ok(d)
        response.headers.update(EXTRA_HEADERS)
        return response


@control("json-body-on-200")
class JsonBodyOn200(ReferenceServer):
    """A JSON body on 200 (the live API sends none)."""

    def ok(self, d):
        return JSONResponse({"status": "updated"})


@control("gzip-responses")
class GzipResponses(ReferenceServer):
    """Every body gzip-compressed when the client accepts it (the suite asks for gzip and deflate)."""

    def app(self):
        return GZipMiddleware(super().app(), minimum_size=0)


@control("latency-40ms")
class Latency40ms(ReferenceServer):
    """40 ms added to every response: an ordinary network round trip (the run must stay quick)."""

    def app(self):
        inner = super().app()

        async def app(scope, receive, send):
            if scope["type"] == "http":
                await asyncio.sleep(0.04)  # the behaviour under test: latency
            await inner(scope, receive, send)

        return app


class TokenBucket:
    def __init__(self, rate: float, capacity: float):
        self.rate, self.capacity, self.tokens, self.at = rate, capacity, capacity, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


@control("rate-limited")
class RateLimited(ReferenceServer):
    """A token bucket of 40 requests per second: 429 past it, with Retry-After where the version sends it."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self.bucket = TokenBucket(rate=40, capacity=40)

    def limited(self, d, retry_after: bool):
        body = {"error": {"code": answer_of(d, "rate_limited")[1], "message": "rate limit exceeded"}}
        return JSONResponse(body, status_code=429, headers={"Retry-After": "1"} if retry_after else None)

    async def update(self, request, d):
        return await super().update(request, d) if self.bucket.take() else self.limited(d, d.retry_after)

    async def get(self, request, d):
        return await super().get(request, d) if self.bucket.take() else self.limited(d, d.retry_after)


@control("rate-limited-without-retry-after")
class RateLimitedWithoutRetryAfter(RateLimited):
    """The token bucket of `rate-limited`, its 429 without Retry-After under every version."""

    async def update(self, request, d):
        return await ReferenceServer.update(self, request, d) if self.bucket.take() else self.limited(d, False)

    async def get(self, request, d):
        return await ReferenceServer.get(self, request, d) if self.bucket.take() else self.limited(d, False)


@control("slow-responses")
class SlowResponses(ReferenceServer):
    """A few updates (the 30th, 130th, ...) take 1.2 s: over Hypothesis's default deadline, under the timeout."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self.count = 0

    async def update(self, request, d):
        self.count += 1
        if self.count % 100 == 30:
            await asyncio.sleep(1.2)  # the behaviour under test: a slow answer
        return await super().update(request, d)


@control("not-ready-at-first")
class NotReadyAtFirst(ReferenceServer):
    """409 not-ready on the first 3 updates of the designated event (a freshly created event)."""

    def seed(self):
        super().seed()
        self.events[self.settings.request_id].not_ready_for = 3


@control("empty-update-accepted")
class EmptyUpdateAccepted(ReferenceServer):
    """Accepts an update with no known field ({} or unknown keys only) with 200, changing nothing."""

    def validate(self, body, d):
        if any(name in body for name in d.types):
            super().validate(body, d)

    def update_of(self, body, d):
        return super().update_of(body, d) if any(name in body for name in d.types) else {}


@control("lookup-before-body")
class LookupBeforeBody(ReferenceServer):
    """Looks the event up (404) before parsing the body (400)."""

    REFUSALS = ("key", "event", "body")


@control("omitempty-read-back")
class OmitemptyReadBack(ReferenceServer):
    """The read-back leaves out a false flag and an empty linked id (Go's `omitempty`): the document makes
    both optional, so a left-out field reads as false or empty."""

    def read(self, event, d):
        body = super().read(event, d)
        node = body
        for part in d.container:
            node = node[part]
        for wire in [w for w, value in node.items() if w in d.fields and value in (False, "")]:
            del node[wire]
        return body


def _json_media(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == "application/json"


def _lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_lone_surrogate, value))
    return False


@control("strict-but-correct")
class StrictButCorrect(ReferenceServer):
    """Refuses with the bad-request answer all the contract lets it refuse (after the key): a
    Content-Type that is not the JSON media type (or none), query parameters it does not know (the
    SDK's `ii`), a lone surrogate escape, {} (as the reference does); the JSON media type in any case
    and with any parameters, and any optional header, it answers as the reference does."""

    async def update(self, request, d):
        try:
            self.authenticate(request, d)
        except Answer as answer:
            return answer.response
        known = {p.field for p in d.places if p.location == "query"}
        if not _json_media(request.headers.get("content-type")) or set(request.query_params) - known:
            return self.error(d, "bad_request", "send application/json, with no other parameters").response
        return await super().update(request, d)

    def parse_body(self, raw, d):
        body = super().parse_body(raw, d)
        if _lone_surrogate(body):
            raise self.error(d, "bad_request", "a lone surrogate is not text")
        return body


@control("loose-but-correct")
class LooseButCorrect(ReferenceServer):
    """Answers as loosely as the contract allows: {} and unknown-only bodies accepted (nothing changed),
    values past the documented limits accepted and stored whole, a lone surrogate escape stored and
    read back escaped (every non-ASCII character of the read-back is escaped), any Content-Type, every
    unknown member and optional header ignored."""

    def validate(self, body, d):
        kinds = {"string": str, "object": dict, "boolean": bool}
        for name, kind in d.types.items():
            if name in body and not isinstance(body[name], kinds[kind]):
                raise self.error(d, "bad_request", f"{name} must be a {kind}")

    async def get(self, request, d):
        try:
            self.authenticate(request, d)
            with self.lock:
                content = self.read(self.find_event(request.path_params["event_id"], d), d)
        except Answer as answer:
            return answer.response
        return Response(json.dumps(content, separators=(",", ":")), media_type="application/json")
