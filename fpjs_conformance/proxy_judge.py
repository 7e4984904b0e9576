"""The proxy's judging: each update or read-back a client sent, judged as the suite judges a server.

The request against the client clauses (`rules.client`: UE-CLIENT-01..03); the answer through the same
oracle and checks (`oracle.expect`, `oracle.judge` via `Target.judge_sent`): the universal response
checks, the credentials (with `--api-key`), the body and id clauses; a read-back of an event after an
accepted update of it must show the fields sent (UE-SEM-01; fields set by an earlier update and not sent
since: UE-SEM-02).

The proxy cannot see an event's state: the event may exist or not, be past its update window, or not be
ready yet. The oracle predicts the answer for each state the event may be in (the states the proxy has
not ruled out: a 200 to an update or a read-back of it shows it exists, the read-back's time field its
age) and the answer is judged under the first state it fits, else under the state whose lead clause
allows its status. A 409 not-ready is transient (the client may retry): no clause but the universal
response checks judges it. Without the key the clauses that need to tell a valid key from a wrong one are
not judged (`NEEDS_KEY`).

Judged as it came: the answer and the request are never scrubbed here (a key may equal a field name or a
value). The texts to scrub (the request's keys, values under credential-like names) join the run's
secrets, which the scrubber removes wherever data leaves: the records, the reports, the terminal.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

from fpjs_conformance import checks, oracle, redact
from fpjs_conformance import proxy_forward as forward
from fpjs_conformance.checks import Verdicts, Violation
from fpjs_conformance.codec import PLACEHOLDERS, WRONG_KEY, Built, Codec, Decoded
from fpjs_conformance.content import uncompress
from fpjs_conformance.model import READ, UPDATE, VALID, WRONG_REGION, Credentials, Events, Exchange, Key, Request
from fpjs_conformance.rules import auth, client, left_open, semantics
from fpjs_conformance.run import Run
from fpjs_conformance.strategies import interoperable
from fpjs_conformance.target import Target

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


class Judge:
    """Judges what passes: one `ProxyTarget` (the suite's judgement), what is known of each event, the tally."""

    def __init__(self, run: Run, target: ProxyTarget, codec: Codec, out=None):
        self.run = run
        self.target = target
        self.profile = target.profile
        self.codec = codec
        self.out = out or sys.stderr
        self.tally = Tally()
        self.transient = self.profile.role("not_ready").statuses
        key_codes = ("missing_key", "wrong_key", "wrong_region", "unreadable_key", "retired_key_place")
        self.key_codes = frozenset(c for name in key_codes for c in self.profile.role(name).codes)

    def say(self, line: str) -> None:
        """One line on the terminal, scrubbed (it leaves here)."""
        text = redact.scrub(line, self.run.secrets).replace("\r", "\\r").replace("\n", "\\n")
        print(text, file=self.out, flush=True)

    def remember(self, secrets: list[str]) -> None:
        """The texts a request carried that must not leave: the run's scrubber removes them at every exit."""
        self.run.add_secrets(secrets)

    def _exchange(self, seen: Decoded, reply: forward.Reply) -> Exchange:
        """The exchange as it came (judged so); only the copy excerpts are cut from is scrubbed now."""
        self.remember(seen.secrets)
        received: dict[str, str] = {}
        for name, value in reply.headers:
            name = name.lower()
            received[name] = f"{received[name]}, {value}" if name in received else value
        body = uncompress(reply.prefix, received.get("content-encoding", ""), JUDGED_BODY)
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
            curl=self.codec.curl(built, self.target.transport.policy.timeout),
            version=self.profile.version,
        )
        ex.shown_body = redact.scrub_bytes(body, self.run.secrets)
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

    def judge(self, seen: Decoded, track: EventTrack, snapshot, reply: forward.Reply, upload) -> None:
        """Judge an update or a read-back and its answer, then keep within bounds what the records keep."""
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
                self.say(violation.summary())
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

    def _judge_update(self, seen: Decoded, track: EventTrack, ex: Exchange) -> None:
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

    def _worlds(self, seen: Decoded, track: EventTrack) -> tuple[list[World], World | None]:
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

    def _key_worlds(self, seen: Decoded) -> list[Request]:
        """The request with each key the proxy cannot name standing for what it may be."""
        request = seen.request
        if not (seen.unchecked or seen.unidentified):
            return [request]
        stand_ins = [VALID, WRONG_KEY, WRONG_REGION] if seen.unchecked else [WRONG_KEY, WRONG_REGION]

        def with_key(key: Key) -> Request:
            items = tuple(replace(c, key=key) if c.key in PLACEHOLDERS else c for c in request.credentials.items)
            return replace(request, credentials=Credentials(items))

        return [with_key(k) for k in stand_ins]

    def _choose(self, seen: Decoded, track: EventTrack, ex: Exchange) -> World:
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

    def _judge_read_back(self, seen: Decoded, track: EventTrack, snapshot, ex: Exchange) -> None:
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
