"""Transport mutants: hanging answers, dropped connections, truncated or stalled bodies, a 409 that
never clears, endless 429.

The connection tricks work at the ASGI level under uvicorn: the `send` callable uvicorn hands to
the app is a bound method of its request cycle, whose `transport` is the client's socket. Hangs
end when the client gives up (its request timeout), so a stopped server never waits on them.
"""

from starlette.responses import JSONResponse

from fpjs_conformance.refserver import Answer, ReferenceServer
from tests.variants import answer_of, mutant


async def until_disconnect(receive) -> None:
    """Wait, without polling, until the client goes away (the request body comes first)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def socket_of(send):
    """uvicorn's asyncio transport for this request."""
    return send.__self__.transport


class RawUpdate(ReferenceServer):
    """Base of the connection mutants: updates for which `hit` is true go to `raw`, the rest as usual."""

    def hit(self, scope) -> bool:
        return True

    async def raw(self, scope, receive, send) -> None:
        raise NotImplementedError

    def app(self):
        inner = super().app()

        async def app(scope, receive, send):
            updates = {d.update_method for d in self.dialects}
            if scope["type"] == "http" and scope["method"] in updates and self.hit(scope):
                await self.raw(scope, receive, send)
            else:
                await inner(scope, receive, send)

        return app


@mutant("hang", "UE-TRANSPORT-01")
class Hang(RawUpdate):
    """Never answers an update."""

    async def raw(self, scope, receive, send):
        await until_disconnect(receive)


@mutant("hang-on-unknown-id", "UE-TRANSPORT-01")
class HangOnUnknownId(RawUpdate):
    """Never answers an update of an unknown event (a lookup that waits forever)."""

    def hit(self, scope):
        return scope["path"].rpartition("/events/")[2] not in self.events

    async def raw(self, scope, receive, send):
        await until_disconnect(receive)


@mutant("drop-connection", "UE-TRANSPORT-01")
class DropConnection(RawUpdate):
    """Resets the connection without sending any response."""

    async def raw(self, scope, receive, send):
        socket_of(send).abort()
        await until_disconnect(receive)


@mutant("drops-requests", "UE-TRANSPORT-01")
class DropsRequests(RawUpdate):
    """Reads every other update and closes the connection without answering it (no reset: the request
    was taken). A client that resends on a fresh connection gets an answer; the official SDKs do not."""

    def hit(self, scope):
        seen = self.__dict__.setdefault("updates_seen", [0])
        seen[0] += 1
        return seen[0] % 2 == 0

    async def raw(self, scope, receive, send):
        while (await receive()).get("more_body"):  # the whole request is read
            pass
        socket_of(send).close()
        await until_disconnect(receive)


@mutant("truncated-body", "UE-TRANSPORT-01")
class TruncatedBody(RawUpdate):
    """Declares a Content-Length of 64, sends 9 bytes, closes the connection."""

    async def raw(self, scope, receive, send):
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"ok": tr', "more_body": True})
        socket_of(send).close()
        await until_disconnect(receive)


@mutant("stalled-body", "UE-TRANSPORT-01")
class StalledBody(RawUpdate):
    """Sends the headers and part of the body, then nothing more until the client gives up."""

    async def raw(self, scope, receive, send):
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"ok": tr', "more_body": True})
        await until_disconnect(receive)


@mutant("not-ready-never-clears", "UE-TRANS-01")
class NotReadyNeverClears(ReferenceServer):
    """Answers 409 StateNotReady for the not-ready event forever."""

    def check_mutable(self, event, d):
        if event.event_id == self.settings.not_ready_request_id:
            event.not_ready_for = max(event.not_ready_for, 1)
        super().check_mutable(event, d)


@mutant("endless-429", "UE-TRANS-02")
class Endless429(ReferenceServer):
    """Answers every authenticated update with 429 (Retry-After: 0: retried at once), however often the client
    tries again."""

    async def update(self, request, d):
        try:
            self.authenticate(request, d)
        except Answer as answer:
            return answer.response
        body = {"error": {"code": answer_of(d, "rate_limited")[1], "message": "too many requests"}}
        return JSONResponse(body, status_code=429, headers={"Retry-After": "0"})
