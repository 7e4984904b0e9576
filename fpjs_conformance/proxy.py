"""`fpjs-conformance proxy`: a validation proxy that judges real clients' traffic as it passes.

    fpjs-conformance proxy --upstream https://api.fpjs.io/v4 --api-version v4 --port 8081
    # then point the client (an SDK, the application, curl) at http://127.0.0.1:8081/v4

Every request is forwarded to the upstream unchanged (method, path and query as they came, headers
but the hop-by-hop ones and Host, the body byte for byte, streamed) and the answer goes back as it
came (status, headers but the hop-by-hop ones, the body still encoded, streamed): `proxy_forward`.
What cannot go upstream unchanged (a URL or a host as the request-target, CONNECT, a path the HTTP
client would normalise) gets a 4xx of the proxy's own. Only the first bytes of each body are held
(`proxy_forward.KEPT` in the records, a request body up to it judged whole; an answer up to 1 MiB
judged, past that as the suite's transport judges it), so memory stays flat. Each update of an
event, and each read-back of one, is judged on the way (its request read by `proxy_read`):

- the request against the client clauses (`rules.client`: UE-CLIENT-01..03): a body valid against
  the schema, the key only in a place the document declares, the JSON media type declared;
- the answer against the clauses the suite judges a server by, through the same oracle and checks
  (`oracle.expect`, `oracle.judge` via `Target.judge_sent`): the universal response checks, the
  credentials (with `--api-key`), the body and id clauses; a read-back of an event after an
  accepted update of it must show the fields sent (UE-SEM-01; fields set by an earlier update and
  not sent since: UE-SEM-02).

The proxy cannot see an event's state: the event may exist or not, be past its update window, or
not be ready yet. The oracle predicts the answer for each state the event may be in (the states
the proxy has not ruled out: a 200 to an update or a read-back of it shows it exists, the
read-back's time field its age) and the answer is judged under the first state it fits, else under
the state whose lead clause allows its status. A 409 not-ready is transient (the client may retry):
no clause but the universal response checks judges it. Without the key (`--api-key` or
FPJS_API_KEY) the proxy cannot tell a valid key from a wrong one: the clauses that need to are not
judged (`NEEDS_KEY`), which the summary says; the universal checks and the body, id and stored-field
clauses still are.

No key is logged or stored (`proxy_read`), and what the upstream echoes of any key in the request is
scrubbed before it is judged or recorded. An update whose body went past the bytes kept, or came
encoded, is judged only by the clauses every answer is judged by.

Each new violation is printed as one line on stderr as it is found. Stopped (Ctrl-C or SIGTERM; a second
signal stops at once), the proxy finishes the exchanges in flight, writes the reports a run writes
(summary.json, summary.md, junit.xml, report.html, behaviour.json, traffic.har with `_fpjs.kind`
"proxy") and exits 0 with no violation, 1 with any (9 when the reports could not be written).
Clauses that need a designed probe (wrong keys, odd ids, the expired event) show as not exercised.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import uvicorn

from fpjs_conformance import changes, checks, clauses, commands, options, oracle, redact, reporting
from fpjs_conformance import profile as profiles
from fpjs_conformance import proxy_forward as forward
from fpjs_conformance.checks import Verdicts, Violation
from fpjs_conformance.model import READ, UPDATE, VALID, WRONG_REGION, Credentials, Events, Exchange, Key, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.proxy_read import PLACEHOLDERS, WRONG_KEY, Reader, Seen
from fpjs_conformance.refserver.serve import READY, WATCH_PARENT
from fpjs_conformance.rules import auth, client, left_open, semantics
from fpjs_conformance.runstate import Exit
from fpjs_conformance.session import Run
from fpjs_conformance.strategies import interoperable
from fpjs_conformance.target import Target
from fpjs_conformance.transport import API_KEY_VAR, Built, decode, split_userinfo, tls_context

HOST = "127.0.0.1"
DEFAULT_PORT = 8081
UPSTREAM_VAR = "FPJS_PROXY_UPSTREAM"
PORT_VAR = "FPJS_PROXY_PORT"
VERSION_VAR = options.env_name("api_version")
JUDGED_BODY = 1024 * 1024  # bytes of a decoded answer that are judged, as the suite's transport caps them

# Clauses whose verdict depends on whether a key is the valid one: not judged without --api-key.
NEEDS_KEY = (
    auth.WRONG_KEY_REFUSED,
    auth.HEADER_KEY_WORKS,
    auth.QUERY_KEY_WORKS,
    auth.AUTH_FIRST,
    auth.SCHEME_CASE,
    auth.HEADER_NAME_CASE,
    left_open.KEYS_DIFFER,
)
# Never judged here: the proxy cannot tell another region's key from a wrong one (a designed probe).
NEEDS_PROBE = {auth.OTHER_REGION_REFUSED: "needs the other region's key, a designed probe: run the suite"}

SENTINEL = "\x00fpjs-proxy: no designated event"  # an event id no request carries
UPDATABLE, EXPIRED, EXISTS = "updatable", "expired", "exists"  # what the proxy learned about an event


# -- the proxy's target: the suite's Target, judging what passes ------------------------------------
@dataclass(repr=False)
class ProxyTarget(Target):
    """A `Target` that never sends: it judges answers the proxy saw (`judge_sent`) under the event state
    the proxy chose (`events`), with transient answers (`transient`) and clauses it cannot judge
    (`unjudged`) left to no verdict."""

    transient: frozenset[int] = frozenset()
    unjudged: frozenset[str] = frozenset()

    @classmethod
    def of(cls, target: Target) -> ProxyTarget:
        return cls(**{f.name: getattr(target, f.name) for f in dataclasses.fields(target) if f.init})

    def expect(self, request: Request, also: tuple[str, ...] = ()) -> list[checks.Expectation]:
        found = super().expect(request, also)
        return [replace(e, defer=e.defer | self.transient) for e in found if e.clause_id not in self.unjudged]

    def judge_sent(self, request: Request, ex: Exchange, also: tuple[str, ...] = ()) -> Verdicts:
        result = super().judge_sent(request, ex, also)
        self._sent.clear()  # nothing is resent here: no need to keep every answer for a replay
        return result

    def record(self, ex: Exchange, verdicts: list[tuple[str, Violation | None]]) -> None:
        """Verdicts outside the oracle's (client clauses, a read-back's stored fields), on the ledger and the
        exchange's traffic record."""
        if verdicts:
            self._record(Verdicts(ex, verdicts))


@dataclass
class World:
    """One state the event may be in, and the request as the oracle is asked about it."""

    name: str  # "designated", "unknown", "expired", or "id" (an id not of the live shape)
    events: Events
    request: Request


@dataclass
class EventTrack:
    """What the proxy saw of one event: its state, and what accepted updates set (field -> (value, seq))."""

    state: str | None = None
    want: dict[str, tuple[Any, int]] = field(default_factory=dict)
    seq: int = 0  # accepted updates so far
    generation: int = 0  # updates that arrived so far (a read-back is judged only if none arrived meanwhile)
    in_flight: int = 0
    last_update: Exchange | None = None


@dataclass
class Tally:
    updates: int = 0
    read_backs: int = 0
    violations: int = 0
    not_judged: int = 0


class Proxy:
    """The ASGI app: forward, then judge (before the answer goes back, so a client's next request sees it)."""

    def __init__(self, run: Run, upstream: str, timeout: float, verify: Any, out=None):
        self.run = run
        version = run.options.versions[0]
        self.target = ProxyTarget.of(run.new_target(version))
        run.targets[version] = self.target
        self.target.phase = "proxy"
        self.target.reads_back = True
        self.profile = self.target.profile
        self.api_key = run.options.api_key
        self.upstream = upstream.rstrip("/")
        parts = urlsplit(self.upstream)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path.rstrip("/")
        self.reader = Reader(self.profile, self.api_key, split_userinfo(self.origin)[0])
        self.timeout = timeout
        self.verify = verify
        self.out = out or sys.stderr
        self.events: dict[str, EventTrack] = {}
        self.tally = Tally()
        self.client: httpx.AsyncClient | None = None
        self.transient = self.profile.role("not_ready").statuses
        key_codes = ("missing_key", "wrong_key", "wrong_region", "unreadable_key", "retired_key_place")
        self.key_codes = frozenset(c for name in key_codes for c in self.profile.role(name).codes)
        self._templates = {
            UPDATE: (self.profile.update_method, self._split(self.profile.update_path)),
            READ: (self.profile.read_back_method, self._split(self.profile.read_back_path)),
        }

    def _split(self, template: str) -> tuple[str, str]:
        marker = "{" + self.profile.id_param + "}"
        head, _, tail = template.partition(marker)
        return self.base_path + head, tail

    def classify(self, method: str, raw_path: str) -> tuple[str, str] | None:
        """(op, event id) of an update or a read-back of the profile's operations, or None (passed through)."""
        for op, (wanted, (head, tail)) in self._templates.items():
            if method != wanted or not raw_path.startswith(head) or not raw_path.endswith(tail):
                continue
            segment = raw_path[len(head) : len(raw_path) - len(tail)]
            if segment and "/" not in segment:
                return op, unquote(segment)
        return None

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
            self._say(f"fpjs proxy: could not forward {scope.get('method')} request: {type(exc).__name__}: {exc}")
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
        op, event_id = found
        body, cut = (bytes(upload.kept), upload.cut) if upload is not None else (b"", False)
        try:
            seen = self.reader.read(method, op, event_id, raw_path, query, headers, body, cut=cut)
        except Exception as exc:  # forwarded all the same, unjudged: the client's traffic comes first
            self._say(f"fpjs proxy: could not read {method} {raw_path[:200]}: {type(exc).__name__}")
            return
        try:
            self._judge(seen, track, snapshot, reply, upload)
        except Exception as exc:
            self._say(f"fpjs proxy: could not judge {seen.method} {seen.shown_url}: {type(exc).__name__}: {exc}")

    # -- judging -------------------------------------------------------------------------------------------
    def _exchange(self, seen: Seen, reply: forward.Reply) -> Exchange:
        secrets = [*self.run.secrets, *seen.secrets]
        received: dict[str, str] = {}
        for name, value in reply.headers:
            name = name.lower()
            value = redact.scrub(value, secrets)
            received[name] = f"{received[name]}, {value}" if name in received else value
        body = redact.scrub_bytes(decode(reply.prefix, received.get("content-encoding", ""), JUDGED_BODY), secrets)
        error = reply.error
        if error is None and not reply.complete:  # as the suite's transport judges an answer past its cap
            error = f"response body larger than the {forward.JUDGED_ANSWER}-byte cap (passed on whole)"
        request = seen.request
        wire_body = request.body.encode() if request.op != READ else None
        method = self.profile.read_back_method if request.op == READ else self.profile.update_method
        built = Built(method, seen.shown_url, seen.shown_headers, seen.shown_url, seen.shown_headers, wire_body)
        ex = Exchange(
            request,
            method,
            seen.shown_url,
            dict(seen.shown_headers),
            status=reply.status if reply.error is None else None,
            response_headers=received,
            body=body,
            error=error,
            elapsed=reply.elapsed,
            curl=self.target.transport.curl(built),
            version=self.profile.version,
        )
        if ex.status is not None:
            ex.statuses.append(ex.status)
        stats = self.target.transport.stats
        stats.sent += 1
        stats.send_times.append(time.monotonic())  # in the order answers complete: peak_rate wants them sorted
        if reply.error is not None:
            stats.transport_errors += 1
        else:
            stats.statuses[reply.status] += 1
        return ex

    def _judge(self, seen: Seen, track: EventTrack, snapshot, reply: forward.Reply, upload) -> None:
        ex = self._exchange(seen, reply)
        if self.run.traffic is not None:
            self.run.traffic.add(ex, kind="proxy")
        before = {id(v) for v in self._failures()}
        if seen.request.op == UPDATE:
            self.tally.updates += 1
            encoded = any(k.lower() == "content-encoding" for k, _ in seen.shown_headers.items())
            if encoded or seen.cut:
                # An encoded body is not the JSON text the contract speaks of; of a cut one only the first
                # bytes are kept: the clauses every answer is judged by judge it, no other.
                self.tally.not_judged += 1
                self.target.record(ex, oracle.judge(ex, self.profile, []))
            else:
                self._judge_update(seen, track, ex)
        else:
            self.tally.read_backs += 1
            self._judge_read_back(seen, track, snapshot, ex)
        for violation in self._failures():  # the new ones, wherever their clause's list is
            if id(violation) not in before:
                self.tally.violations += 1
                self._say(violation.summary())
        self._keep_within_bounds(ex, reply, upload)

    def _keep_within_bounds(self, ex: Exchange, reply: forward.Reply, upload) -> None:
        """What the records keep of this exchange: at most the first `forward.KEPT` bytes of each body, and
        how large each was when it was cut."""
        cut = {}
        if upload is not None and upload.cut:
            cut["request"] = {"kept": len(upload.kept), "received": upload.size}
        if len(ex.body) > forward.KEPT or not reply.complete:
            cut["response"] = {"kept": min(len(ex.body), forward.KEPT), "received": reply.size}
            ex.body = ex.body[: forward.KEPT]
        if cut and self.run.traffic is not None:
            self.run.traffic.cut(ex, cut)

    def _failures(self) -> list[Violation]:
        return [v for found in self.target.found.values() for v in found]

    def _say(self, line: str) -> None:
        text = redact.scrub(line, self.run.secrets).replace("\r", "\\r").replace("\n", "\\n")
        print(text, file=self.out, flush=True)

    def _judge_update(self, seen: Seen, track: EventTrack, ex: Exchange) -> None:
        profile, target = self.profile, self.target
        unjudged = set(NEEDS_PROBE)
        if seen.unchecked:
            unjudged |= set(NEEDS_KEY)
        target.unjudged = frozenset(unjudged)
        target.transient = self.transient
        world = self._choose(seen, track, ex)
        target.events = world.events
        result = target.judge_sent(world.request, ex)
        target.record(ex, client.judge(ex, profile))
        if ex.status == 200 and world.name == "designated":
            if result.violations:  # accepted what it should have refused: what it stored is anyone's guess
                track.want.clear()
                track.state = track.state or EXISTS
                return
            track.state = UPDATABLE
            value = seen.request.body.json_value
            fields = {k: v for k, v in value.items() if k in profile.fields} if isinstance(value, dict) else {}
            if fields:
                track.seq += 1
                track.last_update = ex
                for k, v in fields.items():
                    if interoperable(v) == v:
                        track.want[k] = (v, track.seq)
                    else:  # a value no read-back can show exactly (an integer past 2^53)
                        track.want.pop(k, None)

    def _worlds(self, seen: Seen, track: EventTrack) -> tuple[list[World], World | None]:
        """The states the event may be in (the oracle's `Events` for each) and, apart, the expired state when
        the proxy has not ruled it out but has no sign of it either (a last resort)."""
        request, event_id = seen.request, seen.event_id
        requests = self._key_worlds(seen)
        designated = Events(live=event_id)
        unknown = Events(live=SENTINEL)
        expired = Events(live=SENTINEL, expired=event_id)

        def each(name: str, events: Events) -> list[World]:
            return [World(name, events, r) for r in requests]

        if not self.profile.live_id.match(request.event_id):
            return each("id", unknown), None  # judged by the id's shape
        if track.state == UPDATABLE:
            return each("designated", designated), None
        if track.state == EXPIRED:
            return each("expired", expired), None
        found = each("designated", designated) + ([] if track.state == EXISTS else each("unknown", unknown))
        return found, World("expired", expired, requests[0])

    def _key_worlds(self, seen: Seen) -> list[Request]:
        """The request with each key the proxy cannot name standing for what it may be."""
        request = seen.request
        if not (seen.unchecked or seen.unidentified):
            return [request]
        stand_ins = [VALID, WRONG_KEY, WRONG_REGION] if seen.unchecked else [WRONG_KEY, WRONG_REGION]

        def with_key(key: Key) -> Request:
            items = tuple(replace(c, key=key) if c.key in PLACEHOLDERS else c for c in request.credentials.items)
            return replace(request, credentials=Credentials(items))

        return [with_key(k) for k in stand_ins]

    def _choose(self, seen: Seen, track: EventTrack, ex: Exchange) -> World:
        """The first state the answer fits; else the first whose lead clause allows its status; else the first.
        The expired state, when not known, only for an answer no other state explains and that is no
        refusal of a key (its answers are left open, a key refusal never is the event's age)."""
        worlds, last_resort = self._worlds(seen, track)
        if ex.error is not None:
            return worlds[0]
        allowing = []
        for world in worlds:
            fits, allows = self._fit(world, ex)
            if fits:
                return world
            if allows:
                allowing.append(world)
        if allowing:
            return allowing[0]
        if last_resort is not None and ex.status != 200 and ex.error_code() not in self.key_codes:
            for request in self._key_worlds(seen):
                world = replace(last_resort, request=request)
                if self._fit(world, ex)[0]:
                    return world
        return worlds[0]

    def _fit(self, world: World, ex: Exchange) -> tuple[bool, bool]:
        """(the answer breaks no clause in this state, the state's lead clause allows its status): pure. Every
        clause counts here, those the proxy does not judge too: a state fits by what it predicts, not by
        what is recorded of it."""
        target, unjudged = self.target, self.target.unjudged
        target.events, target.unjudged = world.events, frozenset()
        try:
            expectations = target.expect(world.request)
        finally:
            target.unjudged = unjudged
        verdicts = oracle.judge(ex, self.profile, expectations)
        lead = expectations[0] if expectations else None
        allows = lead is not None and lead.allowed is not None and ex.status in lead.allowed
        return all(v is None for _, v in verdicts), allows

    def _judge_read_back(self, seen: Seen, track: EventTrack, snapshot, ex: Exchange) -> None:
        profile, target = self.profile, self.target
        if ex.error is not None:
            target.judge_server_fault(ex, "transport")
            return
        if ex.status is not None and ex.status >= 500:
            target.judge_server_fault(ex, "server-error")
            return
        if ex.status != 200:
            return
        try:
            stored = profile.stored(ex.json())
        except (ValueError, UnicodeDecodeError, RecursionError):
            stored = None
        if stored is not None:
            track.state = self._age(stored) or track.state or EXISTS
        generation, want, quiet = snapshot
        if not want or not quiet or generation != track.generation:
            return  # nothing accepted to compare, or an update of the event was under way meanwhile
        if stored is None:
            violation = Violation(
                semantics.STORED,
                "the event read back after the update",
                f"read-back: 200 without the event's fields: {ex.received()[:120]}",
                ex,
            )
            violation.check = checks.stored_fields_match.__name__
            violation.cause = track.last_update
            target.record(ex, [(semantics.STORED, violation)])
            return
        latest = max(seq for _, seq in want.values())
        groups = (
            (semantics.STORED, {k: v for k, (v, seq) in want.items() if seq == latest}),
            (semantics.PARTIAL, {k: v for k, (v, seq) in want.items() if seq != latest}),
        )
        verdicts = []
        for clause_id, fields in groups:
            if not fields:
                continue
            found = checks.verdict(
                clause_id, checks.stored_fields_match, clause_id, stored, fields, ex, profile.absent_reads_as
            )
            if found[1] is not None:
                found[1].cause = track.last_update
            verdicts.append(found)
        target.record(ex, verdicts)

    def _age(self, stored: dict[str, Any]) -> str | None:
        """UPDATABLE or EXPIRED by the read-back's time field (milliseconds, or seconds), None without one."""
        stamp = stored.get(self.profile.time_field)
        if not isinstance(stamp, int | float) or isinstance(stamp, bool):
            return None
        seconds = stamp / 1000 if stamp > 1e11 else stamp
        return EXPIRED if time.time() - seconds > self.profile.update_window_days * 86400 else UPDATABLE


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


# -- the command ----------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upstream",
        default=os.environ.get(UPSTREAM_VAR) or None,
        help="the server to forward to: for v4 its URL with /v4 (https://api.fpjs.io/v4), for v3 the root "
        f"[env {UPSTREAM_VAR}]",
    )
    parser.add_argument(
        "--port",
        default=os.environ.get(PORT_VAR) or str(DEFAULT_PORT),
        help=f"the port on {HOST} clients connect to; 0 picks a free one (printed on the READY line) "
        f"[env {PORT_VAR}; default {DEFAULT_PORT}]",
    )
    parser.add_argument(
        "--api-version",
        default=os.environ.get(VERSION_VAR) or None,
        help="v3 or v4: the API version the clients speak (default: v4 when the upstream's path ends in /v4, "
        f"else v3) [env {VERSION_VAR}]",
    )
    commands.add_suite_options(parser, ("api_key", "report_dir", "request_timeout", "ca_bundle", "no_traffic"))


def register(subparsers) -> None:
    """`fpjs-conformance proxy`."""
    parser = subparsers.add_parser(
        "proxy",
        help="forward real clients' traffic to a server and judge every update and read-back on the way",
        description=__doc__.split("\n\n", 1)[0],
    )
    add_arguments(parser)
    parser.set_defaults(command_main=command_main)


def parse(args: argparse.Namespace) -> tuple[options.Options, int]:
    """The options a proxy session needs, validated before anything listens; a bad value is one `ERROR:`
    line and exit 4."""
    commands.fill_from_environment(args)
    try:
        options.check_environment()
        upstream = (args.upstream or "").strip().rstrip("/")
        if not upstream:
            raise options.OptionError(f"--upstream (or {UPSTREAM_VAR}) is required: the server to forward to")
        try:
            options.check_base_url(upstream)
        except options.OptionError as exc:
            raise options.OptionError(str(exc).replace("--base-url", "--upstream")) from None
        if split_userinfo(upstream)[1] is not None:
            raise options.OptionError("--upstream must not carry a user:password (the proxy would add a header)")
        version = _version(args.api_version, upstream)
        api_key = args.api_key or None
        options.check_key("--api-key", api_key)
        timeout = options.positive(args.request_timeout or "10", "--request-timeout", options.MAX_REQUEST_TIMEOUT)
        try:
            port = int(str(args.port))
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise options.OptionError(f"--port must be a port number, 0 for a free one (got {args.port!r})")
        ca_bundle = args.ca_bundle or None
        if ca_bundle:
            options.check_ca_bundle(ca_bundle)
        report_dir = options.report_folder(args.report_dir, Path.cwd())
    except options.OptionError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        raise SystemExit(Exit.USAGE) from None
    opts = options.Options(
        versions=(version,),
        report_dir=report_dir,
        base_urls={version: upstream},
        api_key=api_key,
        rate_limit=None,  # the client's pace, not the proxy's
        timeout=timeout,
        run_timeout=options.MAX_RUN_TIMEOUT,  # a session lasts until it is stopped
        ca_bundle=ca_bundle,
        no_restore=True,  # the proxy writes nothing of its own: there is nothing to restore
        traffic=not getattr(args, "no_traffic", False),
    )
    return opts, port


def _version(option: str | None, upstream: str) -> str:
    """The one version the session judges (a proxy fronts one API version)."""
    chosen = options.choose_versions(option, upstream)
    if len(chosen) != 1:
        raise options.OptionError(f"--api-version must be one of {', '.join(profiles.versions())} (got {option!r})")
    return chosen[0]


def command_main(args: argparse.Namespace) -> int:
    opts, port = parse(args)
    sock = listen(port)
    run = commands.new_run(opts)
    run.judges_clients = True
    reporting.write_placeholder(opts.report_dir)
    run.start()  # the run's keys (`Secrets`); the proxy's own signal handling follows in `serve`
    proxy = Proxy(run, opts.base_urls[opts.versions[0]], opts.timeout, tls_context(opts.ca_bundle))
    if opts.api_key is None:
        proxy._say(
            f"fpjs proxy: no --api-key ({API_KEY_VAR}): the clauses that need to tell a valid key from a wrong one "
            f"({', '.join(c for c in NEEDS_KEY if _applies(c, proxy.profile))}) are not judged"
        )
    why = "stopped"
    try:
        why = serve(proxy, sock)
    finally:
        status = finish(run, proxy, why)
    return status


def _applies(clause_id: str, profile: Profile) -> bool:
    return clauses.get(clause_id).applies_to(profile.version)


def finish(run: Run, proxy: Proxy, why: str) -> int:
    """The session's reports, as a run writes them; the exit status (0: no violation, 1: any, 9: no reports)."""
    run.stop()  # closes the target's transport (it never sent) and keeps its numbers for the summary
    run.restores.clear()  # nothing was restored: the proxy writes nothing of its own
    run.stop_request = None  # a signal is how a proxy session ends, not an interruption
    target, profile = proxy.target, proxy.profile
    reasons = dict(NEEDS_PROBE)
    if run.options.api_key is None:
        reasons |= dict.fromkeys(NEEDS_KEY, f"not judged: the proxy ran without --api-key ({API_KEY_VAR})")
    for clause_id, reason in reasons.items():
        if _applies(clause_id, profile):
            target.ledger.skipped(clause_id, reason)
    failed = sorted(c for c, t in target.ledger.clauses.items() if t.failed)
    ready = changes.readiness_report(run)  # a client of a version with a successor: what it must change
    status = commands.write_reports(run, Exit.VIOLATED if failed else Exit.OK, ready)
    t = proxy.tally
    counts = ", ".join(f"{c} ({target.ledger.clauses[c].failed})" for c in failed)
    lines = [
        f"fpjs proxy: {why}: {t.updates} update(s) and {t.read_backs} read-back(s) judged"
        + (f" ({t.not_judged} with an encoded body not judged)" if t.not_judged else ""),
        f"fpjs proxy: {t.violations} violation(s)" + (f" in {counts}" if failed else ""),
    ]
    if run.options.api_key is None:
        lines.append(f"fpjs proxy: credential clauses not judged (no --api-key / {API_KEY_VAR})")
    lines += [f"fpjs proxy: {line}" for section in ready.get("sections", []) for line in section["lines"]]
    if run.report_paths:
        lines.append(f"fpjs proxy: reports in {run.options.report_dir}")
    for line in lines:
        proxy._say(line)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fpjs-conformance proxy", description=__doc__.split("\n\n", 1)[0])
    add_arguments(parser)
    return command_main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
