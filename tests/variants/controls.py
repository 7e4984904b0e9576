"""Controls: servers that differ from the reference but keep the contract. The suite must pass
them all; a failure here is a false alarm the suite would raise against a correct server."""

import asyncio
import threading
import time

from starlette.responses import JSONResponse

from refserver import Answer, ReferenceServer
from refserver.app import UPDATABLE
from tests.variants import control


@control("different-wording")
class DifferentWording(ReferenceServer):
    """Error messages in other words."""

    def error(self, status, code, message):
        return super().error(status, code, f"[{code}] something else entirely")


EXTRA_HEADERS = {"X-Request-Id": "ctl-0001", "Cache-Control": "no-store", "Vary": "Auth-API-Key"}


@control("extra-headers-charset")
class ExtraHeadersCharset(ReferenceServer):
    """Extra response headers, and `charset=utf-8` on the JSON content type."""

    def error(self, status, code, message):
        response = super().error(status, code, message).response
        response.headers.update({**EXTRA_HEADERS, "Content-Type": "application/json; charset=utf-8"})
        return Answer(response)

    def ok(self):
        response = super().ok()
        response.headers.update(EXTRA_HEADERS)
        return response


@control("json-body-on-200")
class JsonBodyOn200(ReferenceServer):
    """A JSON body on 200 (the live API sends none)."""

    def ok(self):
        return JSONResponse({"status": "updated"})


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
    """A token bucket of 40 requests per second: 429 TooManyRequests with Retry-After: 1 past it."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self.bucket = TokenBucket(rate=40, capacity=40)

    def limited(self):
        body = {"error": {"code": "TooManyRequests", "message": "rate limit exceeded"}}
        return JSONResponse(body, status_code=429, headers={"Retry-After": "1"})

    async def put(self, request):
        return await super().put(request) if self.bucket.take() else self.limited()

    async def get(self, request):
        return await super().get(request) if self.bucket.take() else self.limited()


@control("slow-responses")
class SlowResponses(ReferenceServer):
    """A few PUTs (the 30th, 130th, ...) take 1.2 s: over Hypothesis's default deadline, under the timeout."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self.count = 0

    async def put(self, request):
        self.count += 1
        if self.count % 100 == 30:
            await asyncio.sleep(1.2)  # the behaviour under test: a slow answer
        return await super().put(request)


@control("not-ready-at-first")
class NotReadyAtFirst(ReferenceServer):
    """409 StateNotReady on the first 3 updates of the designated event (a freshly created event)."""

    def seed(self):
        super().seed()
        self.events[self.settings.request_id].not_ready_for = 3


@control("empty-update-accepted")
class EmptyUpdateAccepted(ReferenceServer):
    """Accepts an update with no known field ({} or unknown keys only) with 200, changing nothing."""

    def validate(self, body):
        super().validate(body if any(name in body for name in UPDATABLE) else {**body, "linkedId": ""})


@control("lookup-before-body")
class LookupBeforeBody(ReferenceServer):
    """Looks the event up (404) before parsing the body (400)."""

    async def put(self, request):
        try:
            self.authenticate(request)
            with self.lock:
                self.find_event(request.path_params["request_id"])
            return await super().put(request)
        except Answer as answer:
            return answer.response
