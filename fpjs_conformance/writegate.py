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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fpjs_conformance import shapes
from fpjs_conformance.designated import EventState
from fpjs_conformance.model import READ, Events, Exchange, Request, printable
from fpjs_conformance.profile import Profile
from fpjs_conformance.transport import Transport

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
        kind = self.admit(request)
        writes = self.writes(request)
        if writes is not None:
            self.state.sending(writes)  # on record (the journal) before it goes out
        try:
            ex = self.transport.send(request, reserved=reserved, write=writes is not None)
        except BaseException:
            if writes is not None and self.transport.attempts_out == 0:
                self.state.withdrawn(writes)  # stopped before it went out: nothing of it can land
            raise
        if writes is not None and ex.status == 200 and request.method is None:
            self.state.accepted(writes, trusted=True)
        elif writes is not None and ex.status is not None:
            self.state.refused(writes)
        elif kind == OTHER_DESIGNATED and ex.status == 200 and self.state.journal is not None:
            body = request.body.json_value
            self.state.journal.other_written(
                request.event_id, self.profile.to_store(body) if isinstance(body, dict) else {}
            )
        return ex
