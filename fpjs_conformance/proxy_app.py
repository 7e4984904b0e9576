"""The proxy's front: the ASGI app that forwards each request (`proxy_forward`), reads an update or a
read-back through the codec (`codec.Codec.decode`) and has it judged (`proxy_judge`) before its answer
goes back (after, for an answer streamed past the bytes the proxy holds); and uvicorn serving it on
127.0.0.1 until a signal. The command line is `proxy`'s."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import uvicorn

from fpjs_conformance import proxy_forward as forward
from fpjs_conformance.codec import Codec
from fpjs_conformance.keys import Secrets
from fpjs_conformance.model import UPDATE
from fpjs_conformance.proxy_judge import EventTrack, Judge, ProxyTarget, Tally
from fpjs_conformance.refserver.serve import READY, WATCH_PARENT
from fpjs_conformance.run import Run
from fpjs_conformance.runstate import Exit

HOST = "127.0.0.1"


class Proxy:
    """The ASGI app: forward, then judge (before the answer goes back, so a client's next request sees it)."""

    def __init__(self, run: Run, upstream: str, timeout: float, verify: Any, out=None):
        self.run = run
        version = run.options.versions[0]
        target = ProxyTarget.of(run.new_target(version))
        run.targets[version] = target
        target.phase = "proxy"
        target.reads_back = True
        self.target, self.profile = target, target.profile
        self.upstream = upstream.rstrip("/")
        parts = urlsplit(self.upstream)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path.rstrip("/")
        # Keys named as the run names them (the valid key as the replay variable), any other as a placeholder.
        self.codec = Codec(self.profile, Secrets(run.options.api_key or ""), self.upstream)
        self.judge = Judge(run, target, self.codec, out)
        self.say = self.judge.say
        self.timeout = timeout
        self.verify = verify
        self.events: dict[str, EventTrack] = {}
        self.client: httpx.AsyncClient | None = None

    @property
    def tally(self) -> Tally:
        return self.judge.tally

    def classify(self, method: str, raw_path: str) -> tuple[str, str] | None:
        """(op, event id) of an update or a read-back of the profile's operations, or None (passed through)."""
        found = self.codec.route(method, raw_path)
        return None if found is None else (found[0], unquote(found[1]))

    # -- ASGI ------------------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            await self._serve(scope, receive, send)
        except forward.ClientGone:
            return
        except Exception as exc:  # never a traceback for a client's request: one line, and a 502
            self.say(f"fpjs proxy: could not forward {scope.get('method')} request: {type(exc).__name__}: {exc}")
            await forward.answer(send, 502, f"fpjs proxy: could not forward the request ({type(exc).__name__})")

    async def _serve(self, scope, receive, send) -> None:
        """Forward one request and pass its answer back; an update or read-back is judged on the way (before
        the answer goes back, so a client's next request sees it; after, for an answer streamed past the
        bytes the proxy holds)."""
        method = scope["method"]
        raw_path = (scope.get("raw_path") or quote(scope["path"]).encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        refused = forward.refusal(method, raw_path)
        url = None if refused else forward.upstream_url(self.origin, raw_path, query)
        if refused is None and url is None:
            refused = (400, forward.NOT_AS_SENT)
        if refused is not None:
            await forward.answer(send, *refused)
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        framed = {k.lower() for k, _ in headers} & {"content-length", "transfer-encoding"}
        upload = forward.Upload(receive) if framed else None
        found = self.classify(method, raw_path)
        track = snapshot = None
        if found is not None:
            track = self.events.setdefault(found[1], EventTrack())
            if found[0] == UPDATE:
                track.generation += 1
                track.in_flight += 1
            else:
                snapshot = (track.generation, dict(track.want), track.in_flight == 0)
        try:
            assert self.client is not None
            sent = forward.forwarded_headers(headers)
            reply = await forward.forward(self.client, method, url, sent, upload, self.timeout)
            try:
                if upload is not None:  # what the upstream did not read (it failed, or answered first)
                    await upload.drain()
                judged = (method, raw_path, query, headers, upload, track, snapshot, reply)
                if reply.error is not None:
                    self._judge_reply(found, *judged)
                    await forward.answer(send, 502, f"fpjs proxy: no answer from the upstream: {reply.error}")
                elif reply.complete:
                    self._judge_reply(found, *judged)
                    await reply.send_to(send)
                else:
                    await reply.send_to(send)
                    self._judge_reply(found, *judged)
            finally:
                await reply.close()
        finally:
            if found is not None and found[0] == UPDATE:
                track.in_flight -= 1

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client = httpx.AsyncClient(verify=self.verify, follow_redirects=False, trust_env=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _judge_reply(self, found, method, raw_path, query, headers, upload, track, snapshot, reply) -> None:
        """Judge an update or read-back (a fault of the proxy's own judgement never breaks the traffic)."""
        if found is None:
            return
        body, cut = (bytes(upload.kept), upload.cut) if upload is not None else (b"", False)
        try:
            seen = self.codec.decode(method, raw_path, query, headers, body, cut=cut, names_seen=False)
            assert seen is not None  # `classify` routed it
        except Exception as exc:  # forwarded all the same, unjudged: the client's traffic comes first
            self.say(f"fpjs proxy: could not read {method} {raw_path[:200]}: {type(exc).__name__}")
            return
        try:
            self.judge.judge(seen, track, snapshot, reply, upload)
        except Exception as exc:
            self.say(f"fpjs proxy: could not judge {seen.method} {seen.shown_url}: {type(exc).__name__}: {exc}")

    # -- judging -------------------------------------------------------------------------------------------


# -- serving -----------------------------------------------------------------------------------------
class _Server(uvicorn.Server):
    """uvicorn, with the proxy's own signal handling (uvicorn's raises the signal again once it stops)."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


@dataclass
class Stopper:
    """Signals and the parent's going away ask the server to stop; a second signal stops it at once."""

    server: _Server
    why: str | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        if self.server.should_exit:
            self.server.force_exit = True
        self.why = self.why or f"stopped by {signal.Signals(signum).name}"
        self.server.should_exit = True

    def watch_parent(self) -> None:
        """Under the launcher (FPJS_REF_WATCH_PARENT): stdin closing means the process that started us is gone."""
        with contextlib.suppress(OSError):
            while os.read(0, 4096):  # unbuffered: no lock of sys.stdin held when the interpreter finishes
                pass
        self.why = self.why or "the parent process went away"
        self.server.should_exit = True


def listen(port: int) -> socket.socket:
    """The proxy's socket on 127.0.0.1, listening before uvicorn starts (as the reference server's): connections
    queue in its backlog until uvicorn accepts them. A port that is taken is one `ERROR:` line and exit 4."""
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then (no 40 ms Nagle waits).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        sys.stderr.write(f"ERROR: --port {port}: cannot listen on {HOST}: {exc.strerror or exc}\n")
        raise SystemExit(Exit.USAGE) from None
    return sock


def serve(proxy: Proxy, sock: socket.socket, stdout=None) -> str:
    """Serve on `sock` until a signal (or the parent's going away); why it stopped. Prints `READY <url>` first."""
    stdout = stdout or sys.stdout
    host, bound = sock.getsockname()[:2]
    url = f"http://{host}:{bound}"
    config = uvicorn.Config(
        proxy,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="none",
        proxy_headers=False,
        server_header=False,  # the answer goes back as it came: no header of uvicorn's own
        date_header=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=int(proxy.timeout) + 5,  # the exchanges in flight are finished and judged
    )
    server = _Server(config)
    stopper = Stopper(server)
    previous = {s: signal.signal(s, stopper) for s in (signal.SIGINT, signal.SIGTERM)}
    if os.environ.get(WATCH_PARENT):
        threading.Thread(target=stopper.watch_parent, daemon=True).start()
    print(f"{READY} {url}", file=stdout, flush=True)
    print(
        f"fpjs proxy: {proxy.profile.version} clients use {url}{proxy.base_path} "
        f"(forwarded to {proxy.target.base_url})",
        file=stdout,
        flush=True,
    )
    try:
        server.run(sockets=[sock])
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sock.close()
    return stopper.why or "stopped"
