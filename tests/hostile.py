"""Hostile servers on raw sockets: the misbehaviour no framework would let us write.

Each reads a whole HTTP/1.1 request, then misbehaves in one way. They run in a thread of the
test process; the suite under test talks to them over loopback from its own process.
"""

from __future__ import annotations

import functools
import json
import socket
import ssl
import struct
import threading
from collections.abc import Callable

Behaviour = Callable[[socket.socket, threading.Event], None]


def receive(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """One request: (head, body) by Content-Length; None when the peer is gone."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head, rest


def _read_request(conn: socket.socket) -> bool:
    """Consume one request; False when the peer is gone."""
    return receive(conn) is not None


def _respond(status: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


def answer(status: str, payload: object, extra: str = "") -> bytes:
    """A whole JSON answer (`extra`: more header lines, each ending in CRLF), for `always` or a front."""
    return _respond(status, json.dumps(payload).encode(), extra)


def always(data: bytes) -> Behaviour:
    """Answers every request on a kept-alive connection with `data`."""

    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        while _read_request(conn):
            conn.sendall(data)

    return behaviour


def echoing_key(conn: socket.socket, stop: threading.Event) -> None:
    """Refuses every request 403, its error code and message quoting the key it was sent (the Auth-API-Key or
    Authorization header, or the api_key query parameter): a server that echoes secrets where they are shown."""
    from urllib.parse import parse_qs, urlsplit

    while (got := receive(conn)) is not None:
        lines = got[0].decode("latin-1").split("\r\n")
        key = parse_qs(urlsplit(lines[0].split(" ")[1]).query).get("api_key", [""])[0]
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() in ("auth-api-key", "authorization"):
                key = value.strip()
        conn.sendall(answer("403 Forbidden", {"error": {"code": key, "message": f"no such key: {key}"}}))


def hang(conn: socket.socket, stop: threading.Event) -> None:
    """Reads the request, never answers."""
    if _read_request(conn):
        stop.wait(120)


def drip(conn: socket.socket, stop: threading.Event) -> None:
    """Answers headers, then the body one byte at a time, slower than any timeout allows."""
    if _read_request(conn):
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        while not stop.wait(0.3):
            conn.sendall(b" ")


def drip_headers(conn: socket.socket, stop: threading.Event) -> None:
    """Answers the status line, then one header every half second: each read is quick, the whole never ends."""
    if _read_request(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        n = 0
        while not stop.wait(0.5):
            conn.sendall(b"X-Drip-%d: x\r\n" % n)
            n += 1


def reset(conn: socket.socket, stop: threading.Event) -> None:
    """Resets the connection (RST) instead of answering."""
    if _read_request(conn):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def garbage(conn: socket.socket, stop: threading.Event) -> None:
    """Answers bytes that are not HTTP."""
    if _read_request(conn):
        conn.sendall(b"\x00\xffTHIS IS NOT HTTP\r\n\r\n\x13\x37")


def huge(conn: socket.socket, stop: threading.Event) -> None:
    """Answers a 10 MB error body."""
    while _read_request(conn):
        size = 10 * 1024 * 1024
        conn.sendall(
            f"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode()
        )
        block = b" " * 65536
        try:
            for _ in range(size // len(block)):
                conn.sendall(block)
        except OSError:
            return


def storm_429(conn: socket.socket, stop: threading.Event) -> None:
    """Answers every request 429, without Retry-After."""
    body = json.dumps({"error": {"code": "TooManyRequests", "message": "too many requests"}}).encode()
    while _read_request(conn):
        conn.sendall(_respond("429 Too Many Requests", body))


@functools.cache
def _bomb() -> bytes:
    import gzip

    return gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)


def gzip_bomb(conn: socket.socket, stop: threading.Event) -> None:
    """Answers a 64 KB gzip body that expands to 64 MB (made once, before the server accepts: making it
    takes a busy machine longer than a short request timeout)."""
    bomb = _bomb()
    while _read_request(conn):
        conn.sendall(
            f"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(bomb)}\r\n\r\n".encode()
            + bomb
        )


gzip_bomb.prepare = _bomb  # type: ignore[attr-defined]

BEHAVIOURS: dict[str, Behaviour] = {
    "hang": hang,
    "drip": drip,
    "drip-headers": drip_headers,
    "reset": reset,
    "garbage": garbage,
    "huge": huge,
    "storm-429": storm_429,
    "gzip-bomb": gzip_bomb,
}


def silent_tls(conn: socket.socket, stop: threading.Event) -> None:
    """Takes the TCP connection of a TLS client and never answers its hello."""
    stop.wait(120)


def relay(backend: str, head: bytes, body: bytes, drop: Callable[[str], bool] = lambda name: False) -> bytes:
    """Send one request (as read by `receive`) to `backend` on a connection of its own; the whole answer,
    re-framed with a Content-Length. Headers for which `drop(name)` holds are left out."""
    import http.client
    from urllib.parse import urlsplit

    target = urlsplit(backend)
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if not drop(name) and name.lower() not in ("host", "content-length", "connection"):
            headers[name] = value.strip()
    upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    try:
        upstream.request(method, path, body=body or None, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        skip = ("content-length", "connection", "transfer-encoding")
        kept = "".join(f"{k}: {v}\r\n" for k, v in answer.getheaders() if k.lower() not in skip)
        status = f"HTTP/1.1 {answer.status} {answer.reason}\r\n{kept}Content-Length: {len(data)}\r\n\r\n"
        return status.encode("latin-1") + data
    finally:
        upstream.close()


def forwarding(
    backend: str,
    names: tuple[str, ...] = (),
    first: tuple[bytes, bytes] | None = None,
    refuse: tuple[str, ...] = (),
    observe: Callable[[bytes, bytes], None] | None = None,
    instead: dict[str, bytes] | None = None,
    per_connection: int | None = None,
    idle_close: float | None = None,
    respond: Callable[[bytes, bytes], bytes | None] | None = None,
    hold: Callable[[bytes, bytes, bytes], float] | None = None,
) -> Behaviour:
    """A front to `backend` on raw sockets, keeping connections alive. It drops every header in `names`
    not spelled exactly so (a hand-written stack comparing header names case-sensitively). `first`:
    (answer, late bytes) for the very first request it sees, instead of forwarding it; the late bytes
    go out on that connection just before the answer to the next request (a body written late).
    Methods in `refuse` are answered 405 (a target without the read-back); methods in `instead` get that
    answer. `observe(head, body)` sees every request as it arrived. `per_connection`: answers that many
    requests on a connection, then closes it unanswered when the next one arrives (a server dropping
    requests it has read). `idle_close`: once in all, a request that arrives on a connection idle that
    long is not answered and the connection closed (its keep-alive timeout racing the request).
    `respond(head, body)`: an answer to send instead of forwarding the request, or None to forward it.
    `hold(head, body, answer)`: seconds to hold the backend's `answer` back (the backend has acted on the
    request: an update is stored, then answered late, or never if the client gave up first)."""
    import time

    wanted = {n.lower(): n for n in names}
    pending = [first] if first is not None else []
    lock = threading.Lock()
    raced = threading.Event()

    def forward(head: bytes, body: bytes) -> bytes:
        # a header not spelled as the front compares it is as if absent
        return relay(backend, head, body, drop=lambda name: name.lower() in wanted and name != wanted[name.lower()])

    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        late = b""
        answered = 0
        last = time.monotonic()
        while (got := receive(conn)) is not None:
            if per_connection is not None and answered >= per_connection:
                return
            if idle_close is not None and answered and time.monotonic() - last >= idle_close and not raced.is_set():
                raced.set()
                return
            answered += 1
            if observe is not None:
                observe(*got)
            with lock:
                canned = pending.pop() if pending else None
            if canned is not None:
                conn.sendall(canned[0])
                late = canned[1]
            elif got[0].split(b" ", 1)[0].decode() in refuse:
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            elif instead and got[0].split(b" ", 1)[0].decode() in instead:
                conn.sendall(instead[got[0].split(b" ", 1)[0].decode()])
            elif respond is not None and (reply := respond(*got)) is not None:
                conn.sendall(reply)
            else:
                data = late + forward(*got)
                late = b""
                wait = hold(*got, data) if hold is not None else 0.0
                if wait > 0 and stop.wait(wait):
                    return
                conn.sendall(data)
            last = time.monotonic()

    return behaviour


NO_CONTENT_WITH_BODY = (
    b"HTTP/1.1 204 No Content\r\nContent-Type: application/json\r\n\r\n",
    b'{"error": {"code": "TokenRequired", "message": "a body a 204 must not have"}}',
)


class HostileServer:
    """A threaded loopback server applying one behaviour to every connection."""

    def __init__(self, behaviour: Behaviour, tls: ssl.SSLContext | None = None):
        self.behaviour = behaviour
        self.tls = tls
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.sock.getsockname()[1]}"
        self.threads: list[threading.Thread] = []

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.behaviour(conn, self.stop)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def __enter__(self) -> HostileServer:
        prepare = getattr(self.behaviour, "prepare", None)  # what a behaviour makes once, before any client
        if prepare is not None:
            prepare()
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        self.threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.sock.close()
