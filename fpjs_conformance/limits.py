"""Every bound on the conversation with a target, and what it cost: the `Policy` (timeouts, pacing, retry
bounds, the deadlines), the request `Budget`, the run's `Stats`. Plain data: the options read them, the
transport keeps to them."""

from __future__ import annotations

import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# The restore tries a request again after a transport failure or one of these (RFC 9110, 15.6: the server or
# a gateway could not answer now), after each wait in turn.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
RESTORE_BACKOFF = (0.5, 1.0, 2.0)
# The vendor's own end-to-end tests wait 12 s before an update, then try it up to 12 times 5 s apart
# (dx-team-orchestra, projects/conductor/tests/v4/010-updateEvent.test.ts): not-ready lasts up to about 75 s.
NOT_READY_BUDGET = 75.0
# The waits between tries of a write answered not-ready, as parts of the budget: quick at first (most events
# are ready within seconds), then steady; in all, the whole budget. Scaled to any budget.
_NOT_READY_SHAPE = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 3.25)
# An intermediary's answer (a load balancer, a CDN) rather than the API's: retried once (RFC 9110, 15.6.3-5).
GATEWAY_STATUSES = frozenset({502, 503, 504})


def not_ready_waits(budget: float) -> tuple[float, ...]:
    """The waits between the tries of a write answered not-ready: together `budget` seconds."""
    scale = budget / sum(_NOT_READY_SHAPE)
    return tuple(w * scale for w in _NOT_READY_SHAPE)


NOT_READY_TRIES = len(_NOT_READY_SHAPE)  # the most times a write answered not-ready is tried again


class BudgetSpent(Exception):
    """The request budget is used up: nothing more is sent (the run reports what it left out)."""


@dataclass
class Budget:
    """A cap on requests sent. `reserve` of them are kept for the restore, which may use only those
    (429 retries included); with `reserve=None` the restore's requests are not counted at all (a cap
    on exploration, not a hard cap)."""

    limit: int | None = None
    reserve: int | None = 0
    used: int = 0
    reserved_used: int = 0

    def take(self, reserved: bool = False) -> None:
        if reserved:
            if self.limit is not None and self.reserve is not None and self.reserved_used >= self.reserve:
                raise BudgetSpent(f"the restore's reserve of the request budget ({self.reserve}) is spent")
            self.reserved_used += 1
            return
        if self.limit is not None and self.used >= self.limit - (self.reserve or 0):
            raise BudgetSpent(f"the request budget ({self.limit}) is spent")
        self.used += 1

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - (self.reserve or 0) - self.used)


@dataclass
class Policy:
    """Every bound on the conversation with the target."""

    timeout: float = 10.0  # seconds per request (connect, each read, and the whole body)
    max_body: int = 1024 * 1024  # bytes of decoded body read before it is cut off
    rate_limit: float | None = None  # requests per second; None: unpaced
    max_429_retries: int = 5
    max_retry_after: float = 30.0
    not_ready_budget: float = NOT_READY_BUDGET  # seconds a write may wait out not-ready answers in all
    gateway_wait: float = 0.5  # seconds before an intermediary's 502/503/504 is tried again (once)
    restore_backoff: tuple[float, ...] = RESTORE_BACKOFF  # the restore's waits before it tries a request again
    verify: ssl.SSLContext | bool = True
    deadline: float | None = None  # time.monotonic() past which the run stops
    grace: float = 60.0  # seconds after the deadline the restore may still take (its own deadline)
    late_write_settle: float = 5.0  # seconds the restore waits for a write that got no answer to land
    race_idle: float = 1.0  # a kept-alive connection idle this long may race the server's keep-alive timeout
    stop_requested: Callable[[], str | None] = lambda: None  # why the run must stop now (a signal), if it must
    connections: int = 1  # requests on the wire at once, at most (`--connections`); 1: one after another
    max_consecutive_failures: int = 3  # requests in a row without a usable answer: the target is unreachable
    max_failures: int = 5  # requests without a usable answer in all: so is a target that keeps hanging


@dataclass
class Stats:
    """What the run cost: requests, retries, statuses, and the busiest second."""

    sent: int = 0
    retries_429: int = 0
    retries_409: int = 0
    retries_gateway: int = 0  # intermediaries' 502/503/504 pages tried again
    transport_errors: int = 0
    not_ready: list[float] = field(default_factory=list)  # per write answered not-ready: seconds until it cleared
    not_ready_unclear: int = 0  # writes still not ready when the budget was spent
    retry_after_seen: int = 0  # 429 answers that carried Retry-After
    statuses: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    send_times: list[float] = field(default_factory=list)

    def peak_rate(self) -> int:
        """Most requests started within any one-second window."""
        times, best, lo = self.send_times, 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= 1.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def as_dict(self) -> dict:
        return {
            "requests_sent": self.sent,
            "retries_429": self.retries_429,
            "retries_409": self.retries_409,
            "retries_gateway": self.retries_gateway,
            "not_ready": {
                "writes": len(self.not_ready) + self.not_ready_unclear,
                "longest_s": round(max(self.not_ready, default=0.0), 3),
                "total_s": round(sum(self.not_ready), 3),
                "still_not_ready": self.not_ready_unclear,
            },
            "transport_errors": self.transport_errors,
            "rate_limited_with_retry_after": self.retry_after_seen,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=lambda kv: str(kv[0]))},
            "peak_requests_per_second": self.peak_rate(),
            "duration_s": round(time.monotonic() - self.started, 3),
        }
