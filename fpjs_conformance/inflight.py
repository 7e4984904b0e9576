"""Coverage cases in flight together, at network speed and in order.

A case of one request that cannot change the designated event (the write gate's `may_overlap`: sent to
another id, with a method the document does not declare, or without the run's key) goes out on one of the
transport's connections, at most `--connections` at once. Its budget is taken when it is handed over, so a
budget cuts where sending one after another would; its answer is noted by the gate, recorded and judged in
the order the cases were handed over, so the traffic, the journal and the verdicts read as if they had been
sent one after another. Any other case waits until every case in flight has been answered (`drain`) and
goes alone: nothing overlaps a request that may change the designated event, and a read-back that judges
a batch comes after all of the batch was answered. With one connection nothing overlaps at all.
"""

from __future__ import annotations

import contextlib
from collections import deque
from typing import Any

from fpjs_conformance.model import Events, Exchange
from fpjs_conformance.profile import Profile
from fpjs_conformance.table import Case
from fpjs_conformance.target import GROUPED, Target
from fpjs_conformance.transport import Flight
from fpjs_conformance.writegate import may_overlap


def overlaps(profile: Profile, events: Events, case: Case) -> bool:
    """Whether `case` may be in flight beside others: one request the write gate says cannot change the
    designated event, judged without a read of its own."""
    return (
        len(case.requests) == 1 and case.compare in (None, *GROUPED) and may_overlap(profile, events, case.requests[0])
    )


class Window:
    """The cases in flight, oldest first, and those answered since the caller last `collect`ed."""

    def __init__(self, target: Target):
        self.target = target
        self.size = max(1, target.transport.policy.connections)
        self.flying: deque[tuple[Case, dict[str, Any] | None, Flight]] = deque()
        self.answered: list[tuple[Case, list[Exchange]]] = []

    def takes(self, case: Case) -> bool:
        """Whether `case` goes out beside others (else: `drain`, then send it alone)."""
        t = self.target
        if self.size < 2 or t.unreachable or not overlaps(t.profile, t.events, case):
            return False
        fresh = case.needs_read_back and t.reads_back  # as `Target.send_case`: to the wire even if sent before
        return fresh or not t.judged_before(case.requests[0])  # else judged again without a request: alone

    def send(self, case: Case) -> None:
        """Hand `case` over (it `takes`): its budget taken now, admitted and journalled by the gate."""
        self._make_room()
        writes, flight = self.target.gate.submit(case.requests[0])
        self.flying.append((case, writes, flight))

    def drain(self) -> None:
        """Wait for every case in flight; each recorded and judged in order. A failure (a stop, an unreachable
        target) is raised once every case in flight was answered and recorded."""
        failure = None
        while self.flying:
            try:
                self._finish()
            except BaseException as exc:  # raised below, once nothing is in flight
                failure = failure or exc
        if failure is not None:
            raise failure

    def abandon(self) -> None:
        """Something stopped the run: every case in flight is still answered and recorded (a write is never
        abandoned), and what that raises gives way to what stopped it."""
        with contextlib.suppress(BaseException):
            self.drain()

    def collect(self) -> list[tuple[Case, list[Exchange]]]:
        """The cases answered since the last call, in the order they were handed over, with their exchanges."""
        out, self.answered = self.answered, []
        return out

    def _make_room(self) -> None:
        while len(self.flying) >= self.size:
            try:
                self._finish()
            except BaseException:
                self.drain()
                raise

    def _finish(self) -> None:
        """The oldest case's answer: noted by the gate, recorded, judged (as `Target.send_case` would)."""
        t = self.target
        case, writes, flight = self.flying[0]
        flight.wait()  # an interrupt here leaves it in flight: waited for again
        self.flying.popleft()
        request = case.requests[0]
        ex = t.gate.answer(request, writes, flight)
        t.case_id = case.id
        try:
            result = t.judge_sent(request, t.answered(request, ex))
        finally:
            t.case_id = None
        self.answered.append((case, [result.exchange]))
