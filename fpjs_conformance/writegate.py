"""The one gate every request passes on its way to the target: the run's, the preflight's, the restore's,
`--restore-from`'s, a replay's and a migration's alike (they all send through `Target.send`).

The designated event is production data. So, for any request that can change an event (anything but the
read-back), whatever key it carries:
- to the designated event: its fields go on record (the journal) before it is sent, and it is never
  abandoned: the transport waits for its answer within the request timeout, past the run's deadline
  and through a second signal, so no write of the run lands after the restore has begun;
- to another event the user designated (past its window, not ready, of another workspace: `Events`): sent;
- to an id no event can have (not of the live shape, from before ids were issued) or one the suite
  derives from the designated id (its near misses): sent;
- to any other id: refused here (`UndesignatedWrite`), before anything goes out. A journal or a HAR
  that names an event no one designated stops at this gate, whatever its provenance claims.
A method that removes what it names (DELETE, RFC 9110 9.3.5) never goes to a designated event, whatever
key it carries: no restore could put the event back.

Which requests may be on the wire beside others (`may_overlap`) is the gate's word too: only those that
cannot change the designated event. Everything else goes alone, after every request in flight was answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fpjs_conformance import shapes
from fpjs_conformance.designated import EventState
from fpjs_conformance.model import READ, VALID, Events, Exchange, Request, printable
from fpjs_conformance.profile import Profile
from fpjs_conformance.transport import Flight, Transport

# What a request is to the gate.
READ_ONLY, DESIGNATED, OTHER_DESIGNATED, NO_EVENT, UNDESIGNATED = (
    "read",
    "designated",
    "other designated",
    "no event",
    "undesignated",
)


class UndesignatedWrite(Exception):
    """A request that could change an event no one designated: never sent."""


def classify(profile: Profile, events: Events, request: Request) -> str:
    """What `request` is to the gate (see the module docstring)."""
    if request.op == READ:
        return READ_ONLY
    event_id = request.event_id
    if shapes.designated(request, events):  # as sent, or a path text that may stand for it
        return DESIGNATED
    if event_id in (events.expired, events.not_ready, events.foreign):
        return OTHER_DESIGNATED
    if not shapes.may_name_an_event(profile, event_id) or event_id in shapes.near_ids(events.live).values():
        return NO_EVENT
    return UNDESIGNATED


# Key kinds a server may take for the run's key: the key itself, and the key with white space around it.
RUN_KEYS = (VALID.kind, "padded")


def may_overlap(profile: Profile, events: Events, request: Request) -> bool:
    """Whether `request` cannot change the designated event, so that it may be on the wire beside others: sent
    to another id (an event the user designated for its refusal, or one no event can have), or to the
    designated event with a method the document does not declare or without the run's key. A read (it shows
    the state that writes make) and any update with the key go alone."""
    kind = classify(profile, events, request)
    if kind in (OTHER_DESIGNATED, NO_EVENT):
        return True
    if kind != DESIGNATED:
        return False
    return request.method is not None or not any(c.key.kind in RUN_KEYS for c in request.credentials.items)


@dataclass(repr=False)
class WriteGate:
    transport: Transport
    profile: Profile
    events: Events
    state: EventState

    def __repr__(self) -> str:
        return f"WriteGate({self.profile.version})"

    def kind(self, request: Request) -> str:
        return classify(self.profile, self.events, request)

    def admit(self, request: Request) -> str:
        """The request's kind; UndesignatedWrite when it may not be sent at all."""
        kind = self.kind(request)
        if request.method in shapes.IRREVERSIBLE and kind in (DESIGNATED, OTHER_DESIGNATED):
            raise UndesignatedWrite(
                f"not sent: {request.method} of designated event {printable(request.event_id)!r}: "
                "no restore could undo it"
            )
        if kind == UNDESIGNATED:
            raise UndesignatedWrite(
                f"not sent: {request.op} of event {printable(request.event_id)!r}, which no one designated "
                f"(designated: {printable(self.events.live)!r}); the suite writes to no other event"
            )
        return kind

    def writes(self, request: Request) -> dict[str, Any] | None:
        """The fields a request to the designated event would set (store names); None for any other."""
        if self.kind(request) != DESIGNATED:
            return None
        body = request.body.json_value
        return self.profile.to_store(body) if isinstance(body, dict) else None

    def send(self, request: Request, *, reserved: bool = False) -> Exchange:
        """Admit, journal, send (a write awaited to its answer), and note what the answer means for the
        designated event's state."""
        writes = self.open(request)
        try:
            ex = self.transport.send(request, reserved=reserved, write=writes is not None)
        except BaseException:
            self._unsent(writes, self.transport.attempts_out)
            raise
        self.close(request, writes, ex)
        return ex

    def submit(self, request: Request) -> tuple[dict[str, Any] | None, Flight]:
        """As `send`, on another connection, for a request that `may_overlap`: its budget taken now (in the
        order requests are handed over), then admitted and journalled; what it may write and its flight.
        `answer` each in the order they were submitted."""
        if not may_overlap(self.profile, self.events, request):
            raise ValueError(f"{request!r} may change the designated event: it goes alone (send)")
        self.admit(request)
        self.transport.prepay()
        writes = self.open(request)
        return writes, self.transport.submit(request, write=writes is not None)

    def answer(self, request: Request, writes: dict[str, Any] | None, flight: Flight) -> Exchange:
        """A submitted request's answer, once its flight is over (`Flight.wait`), noted as `send` notes it; or
        what stopped it, raised."""
        try:
            ex = flight.future.result()
        except BaseException:
            if flight.future.done():  # what stopped it, not an interrupt of this wait
                self._unsent(writes, flight.attempts_out)
            raise
        self.close(request, writes, ex)
        return ex

    def open(self, request: Request) -> dict[str, Any] | None:
        """Admit the request and put what it may write on record (the journal) before it goes out."""
        self.admit(request)
        writes = self.writes(request)
        if writes is not None:
            self.state.sending(writes)
        return writes

    def _unsent(self, writes: dict[str, Any] | None, attempts_out: int) -> None:
        if writes is not None and attempts_out == 0:
            self.state.withdrawn(writes)  # stopped before it went out: nothing of it can land

    def close(self, request: Request, writes: dict[str, Any] | None, ex: Exchange) -> None:
        """Note what the answer means for the designated event's state."""
        kind = self.kind(request)
        if writes is not None and ex.status == 200 and request.method is None:
            self.state.accepted(writes, trusted=True)
        elif writes is not None and ex.status is not None:
            self.state.refused(writes)
        elif kind == OTHER_DESIGNATED and ex.status == 200 and self.state.journal is not None:
            body = request.body.json_value
            self.state.journal.other_written(
                request.event_id, self.profile.to_store(body) if isinstance(body, dict) else {}
            )
