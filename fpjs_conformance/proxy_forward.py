"""The proxy's forwarding: a client's request to the upstream as it came, its answer back as it came.

Both bodies stream: the proxy holds no whole body, only the first bytes of each (`Upload.kept`, the
`Reply` prefix), so its memory stays flat however large the bodies, and its records say what was
cut. What cannot go upstream unaltered is refused with a 4xx of the proxy's own, never forwarded
changed: a request-target that is not a path (absolute-form `http://host/...`, CONNECT's
authority-form, `*`, `@host/...`: this is no forward proxy), and a path the HTTP client would
normalise (`/events/../visitors/x` would reach the upstream as `/visitors/x`). The upstream gets its
own `Host` (the client's names the proxy), never the client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from fpjs_conformance.codec import HOP_BY_HOP, NOT_FORWARDED

KEPT = 64 * 1024  # bytes of each body a record keeps; a request body up to this is judged whole
JUDGED_ANSWER = 1024 * 1024  # bytes of an answer (as it came) held to judge it, as the suite's transport caps it


class ClientGone(Exception):
    """The client went away before its request body was complete: nothing is answered."""


def refusal(method: str, raw_path: str) -> tuple[int, str] | None:
    """(status, why) for a request the proxy does not forward, else None."""
    if method == "CONNECT":
        return 405, "fpjs proxy: CONNECT is not forwarded (this is a proxy in front of one API, not a forward proxy)"
    if not raw_path.startswith("/"):
        return 400, "fpjs proxy: only a path (origin-form) is forwarded as a request-target, not a URL or a host"
    return None


def upstream_url(origin: str, raw_path: str, query: str) -> httpx.URL | None:
    """The upstream URL with the client's path and query byte for byte; None when it cannot be (the HTTP
    client would change it: dot segments normalised away, a path it refuses)."""
    target = (raw_path + (f"?{query}" if query else "")).encode("latin-1")
    try:
        url = httpx.URL(origin).copy_with(raw_path=target)
    except (httpx.InvalidURL, ValueError):
        return None
    return url if url.raw_path == target else None


NOT_AS_SENT = "fpjs proxy: the path would reach the upstream changed (dot segments normalised): not forwarded"


def forwarded_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's headers the upstream gets: all but the hop-by-hop ones, those `Connection` names,
    Host and Expect."""
    named = {t.strip().lower() for k, v in headers if k.lower() == "connection" for t in v.split(",")}
    return [(k, v) for k, v in headers if k.lower() not in NOT_FORWARDED and k.lower() not in named]


@dataclass
class Upload:
    """A client's request body as it streams to the upstream, its first `keep` bytes kept."""

    receive: Any
    keep: int = KEPT
    kept: bytearray = field(default_factory=bytearray)
    size: int = 0
    complete: bool = False

    @property
    def cut(self) -> bool:
        return self.size > len(self.kept)

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.complete:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            if len(self.kept) < self.keep:
                self.kept += chunk[: self.keep - len(self.kept)]
            self.size += len(chunk)
            self.complete = not message.get("more_body")
            if chunk:
                yield chunk

    async def drain(self) -> None:
        """Read what the upstream did not (an answer that came before the whole body): counted, not kept."""
        with contextlib.suppress(ClientGone):
            async for _ in self.chunks():
                pass


@dataclass
class Reply:
    """The upstream's answer: status and headers as they came, its first bytes (still encoded), or why
    there is none. `complete` when the prefix is the whole body; else `send_to` streams the rest."""

    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    prefix: bytes = b""
    size: int = 0
    complete: bool = True
    error: str | None = None
    elapsed: float = 0.0
    _response: httpx.Response | None = field(default=None, repr=False)
    _rest: AsyncIterator[bytes] | None = field(default=None, repr=False)
    _deadline: float = 0.0

    async def send_to(self, send: Any) -> None:
        """The answer to the client as it came (headers but the hop-by-hop ones), the rest streamed; an
        upstream that breaks off midway ends the body there (the headers are gone already)."""
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers if k.lower() not in HOP_BY_HOP]
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "http.response.start", "status": self.status, "headers": out})
            await send({"type": "http.response.body", "body": self.prefix, "more_body": not self.complete})
            if not self.complete and self._rest is not None:
                try:
                    async with asyncio.timeout_at(self._deadline):
                        async for chunk in self._rest:
                            self.size += len(chunk)
                            await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except (httpx.HTTPError, TimeoutError, OSError) as exc:
                    self.error = _why(exc)
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def close(self) -> None:
        if self._response is not None:
            await self._response.aclose()


async def forward(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    headers: list[tuple[str, str]],
    upload: Upload | None,
    timeout: float,
) -> Reply:
    """Send the request upstream (its body streamed from the client) and read the answer's head and first
    bytes within `timeout`; the rest stays to be streamed (`Reply.send_to`), then `Reply.close`."""
    request = httpx.Request(
        method,
        url,
        headers=headers,
        content=upload.chunks() if upload is not None else None,
        extensions={"timeout": httpx.Timeout(timeout).as_dict()},
    )
    started = time.monotonic()
    deadline = asyncio.get_running_loop().time() + timeout
    reply = Reply(_deadline=deadline)
    try:
        async with asyncio.timeout_at(deadline):
            response = await client.send(request, stream=True)
            reply._response = response
            reply.status = response.status_code
            reply.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
            chunks, size, rest = [], 0, response.aiter_raw()
            async for chunk in rest:
                chunks.append(chunk)
                size += len(chunk)
                if size > JUDGED_ANSWER:
                    reply.complete, reply._rest = False, rest
                    break
            reply.prefix, reply.size = b"".join(chunks), size
    except ClientGone:
        raise
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        await reply.close()
        reply = Reply(error=_why(exc))
    reply.elapsed = time.monotonic() - started
    return reply


def _why(exc: BaseException) -> str:
    what = "no complete answer within the request timeout" if isinstance(exc, TimeoutError) else str(exc)
    return f"{type(exc).__name__}: {what}"[:300]


async def answer(send: Any, status: int, text: str) -> None:
    """The proxy's own answer (no upstream answer to pass on): plain text."""
    body = text.encode("utf-8", "replace")
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    with contextlib.suppress(OSError, RuntimeError):
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
