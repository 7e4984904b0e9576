"""A hostile front for fault schedules: a loopback proxy in front of a reference server that applies one
fault to a request when the schedule says so, knows which process sent each request, and logs every
request with what happened to it (did it reach the backend, with the valid key, to which event).

The fault schedule (tests/test_fault_schedules.py) decides through a `director`: the front calls it for
every request, before acting, with the request as seen (sender, phase, number); the director may act on
the world (signal the suite, start another run) and answers with a `Directive`.

Which process sent a request: the front looks up the peer socket's owner in /proc (the suite processes
are registered by pid), so a fault aimed at "the run's 40th request" hits that run's, whatever else talks
to the front. Which phase: the suite's restore runs in its `pytest_sessionfinish`; `tests/fault_marker.py`
(loaded with `-p tests.fault_marker`) tells the front, just before, with `GET /__fault/restore`.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from fpjs_conformance import profile as profiles
from tests.hostile import HostileServer, answer, receive, relay

MARKER = "/__fault/restore"
ERROR_BODY = {"error": {"code": "Failed", "message": "fault front"}}
# Faults answered by the front itself: the request never reaches the backend.
CANNED = {
    "429": answer("429 Too Many Requests", {"error": {"code": "TooManyRequests", "message": "slow down"}}),
    "429-retry-after": answer(
        "429 Too Many Requests", {"error": {"code": "TooManyRequests", "message": "slow down"}}, "Retry-After: 0\r\n"
    ),
    "503": answer("503 Service Unavailable", ERROR_BODY),
}
# Faults on the connection. "-before": the backend never sees the request; "-after" and "lost": it acts on
# it (a write lands) and the answer is lost (reset, or never sent); "hang": never forwarded, never answered.
DROPS = ("reset-before", "close", "hang", "reset-after", "lost")
FAULTS = (*CANNED, *DROPS, "delay")
GIVE_UP = 30.0  # seconds "hang" and "lost" wait at most for the client to give up


@dataclass
class Seen:
    """One request that reached the front, and what the front did with it."""

    front: str
    sender: str | None  # the label of the registered process that sent it (None: unknown)
    phase: str  # "run", or "restore" once its sender said its restore began
    index: int  # its number among its sender's requests of that phase, from 1
    method: str
    path: str  # without the query
    event_id: str | None  # the event the path names (None: not an event path)
    key_places: tuple[str, ...]  # where it carried the valid key as a server reads it ("header:X", "query:y")
    body: bytes
    fresh: bool  # the first request on its connection
    idle: float  # seconds since the previous answer on its connection (since it opened, when fresh)
    arrived: float  # time.monotonic()
    fault: str | None = None
    forwarded: bool = False  # it reached the backend
    done: float | None = None  # when the front answered it, or gave up on it


@dataclass
class Directive:
    """What the front does with one request: a fault (FAULTS), and seconds to wait before forwarding it
    (the backend acts late: a write held this way can land after the client gave up on it)."""

    fault: str | None = None
    delay: float = 0.0


Director = Callable[[Seen], Directive | None]


def event_prefixes() -> tuple[str, ...]:
    """The path before the event id, per version (from the profiles): `/events/`, `/v4/events/`."""
    out = []
    for version in profiles.versions():
        p = profiles.load(version)
        out.append(p.server_path + p.path_for(p.update_path, "\0").split("\0")[0])
    return tuple(sorted(out, key=len, reverse=True))


def key_places(head: bytes, key: str) -> tuple[str, ...]:
    """Where `head` carries `key` as a server would read it: a header whose value is the key or a scheme
    word and the key; a query parameter whose decoded value is the key. A near miss is not the key."""
    lines = head.decode("latin-1").split("\r\n")
    places = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        words = value.strip().split(None, 1)
        if value.strip() == key or (len(words) == 2 and words[1].strip() == key):
            places.append(f"header:{name.strip()}")
    target = lines[0].split(" ")[1] if " " in lines[0] else ""
    places += [f"query:{n}" for n, v in parse_qsl(urlsplit(target).query, keep_blank_values=True) if v == key]
    return tuple(places)


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the loopback TCP socket from `local_port` to `remote_port` (/proc/net/tcp)."""
    local, remote = f"0100007F:{local_port:04X}", f"0100007F:{remote_port:04X}"
    try:
        with open("/proc/net/tcp", encoding="ascii") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) > 9 and parts[1] == local and parts[2] == remote:
                    return parts[9]
    except OSError:
        return None
    return None


class FaultFront:
    """The front (a `HostileServer`): `with FaultFront(backend, key) as front: front.url`."""

    def __init__(self, backend: str, key: str, *, name: str = "target", echo: bool = False, director=None):
        self.backend, self.key, self.name, self.echo = backend, key, name, echo
        self.director: Director | None = director
        self.log: list[Seen] = []
        self.markers: dict[str | None, float] = {}  # sender -> when its restore began
        self._owners: dict[int, str] = {}  # pid -> label
        self._counts: Counter = Counter()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._prefixes = event_prefixes()
        self.server = HostileServer(self._behaviour)

    @property
    def url(self) -> str:
        return self.server.url

    def register(self, pid: int, label: str) -> None:
        """Requests from process `pid` are labelled `label` from now on."""
        self._owners[pid] = label

    def sent_by(self, label: str) -> list[Seen]:
        return [s for s in self.log if s.sender == label]

    def wait_for(self, label: str, count: int, timeout: float) -> bool:
        """Until `count` requests from `label` have arrived (False when `timeout` passed first)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self._counts[label, "run"] >= count, timeout)

    def __enter__(self) -> FaultFront:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    # -- one connection ---------------------------------------------------------------------------
    def _behaviour(self, conn: socket.socket, stop: threading.Event) -> None:
        sender = self._owner(conn)
        last, fresh = time.monotonic(), True
        while (got := receive(conn)) is not None:
            head, body = got
            now = time.monotonic()
            if head.split(b" ", 2)[1].startswith(MARKER.encode()):
                self.markers[sender] = now
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                last = time.monotonic()
                continue
            seen = self._note(sender, head, body, fresh, now - last, now)
            fresh = False
            directive = (self.director(seen) if self.director else None) or Directive()
            seen.fault = directive.fault
            try:
                if not self._act(conn, stop, seen, directive, head, body):
                    return
            finally:
                seen.done = time.monotonic()
            last = seen.done

    def _act(self, conn, stop, seen: Seen, directive: Directive, head: bytes, body: bytes) -> bool:
        """Apply the directive; False when the connection ends here."""
        kind = directive.fault
        if kind in CANNED:
            conn.sendall(CANNED[kind])
            return True
        if kind == "reset-before":
            return _reset(conn)
        if kind == "close":
            return False
        if kind == "hang":
            _until_gone(conn, stop)
            return False
        if directive.delay > 0 and stop.wait(directive.delay):
            return False
        data = relay(self.backend, head, body)
        seen.forwarded = True
        if kind == "reset-after":
            return _reset(conn)
        if kind == "lost":
            _until_gone(conn, stop)
            return False
        if self.echo:
            data = _echoed(data, head)
        try:
            conn.sendall(data)
        except OSError:  # the client gave up on it (its deadline): the backend acted all the same
            return False
        return True

    def _note(self, sender: str | None, head: bytes, body: bytes, fresh: bool, idle: float, now: float) -> Seen:
        method, target = head.decode("latin-1").split(" ", 2)[:2]
        path = urlsplit(target).path
        event = next((unquote(path[len(p) :]) for p in self._prefixes if path.startswith(p)), None)
        with self._lock:
            phase = "restore" if sender in self.markers else "run"
            self._counts[sender, phase] += 1
            seen = Seen(
                self.name,
                sender,
                phase,
                self._counts[sender, phase],
                method,
                path,
                event,
                key_places(head, self.key),
                body,
                fresh,
                idle,
                now,
            )
            self.log.append(seen)
            self._arrived.notify_all()
        return seen

    def _owner(self, conn: socket.socket) -> str | None:
        """The label of the registered process that holds the other end of `conn`."""
        inode = _socket_inode(conn.getpeername()[1], conn.getsockname()[1])
        if inode is None:
            return None
        link = f"socket:[{inode}]"
        for pid, label in list(self._owners.items()):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == link:
                        return label
                except OSError:
                    continue
        return None


def _reset(conn: socket.socket) -> bool:
    """Close with RST (SO_LINGER 0) instead of FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return False


def _until_gone(conn: socket.socket, stop: threading.Event) -> None:
    """Say nothing until the client closes the connection (it gave up), the front stops, or GIVE_UP."""
    conn.settimeout(0.2)
    deadline = time.monotonic() + GIVE_UP
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            if not conn.recv(65536):
                return
        except TimeoutError:
            continue
        except OSError:
            return


def _echoed(data: bytes, head: bytes) -> bytes:
    """The answer with a header quoting the credentials the request carried, as they came on the wire
    (header values, and the query string still percent-encoded): a server that echoes secrets."""
    lines = head.decode("latin-1").split("\r\n")
    quoted = [lines[0].split(" ")[1].partition("?")[2]]
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in ("auth-api-key", "authorization"):
            quoted.append(value.strip())
    status, _, rest = data.partition(b"\r\n")
    echo = "; ".join(q for q in quoted if q)
    return status + b"\r\nX-Echo: " + echo.encode("latin-1", "replace") + b"\r\n" + rest
