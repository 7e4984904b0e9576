"""Fault schedules: what may happen to a run against a production event, as data Hypothesis draws, and
the exit codes README promises for what did happen.

A schedule is its inputs (API version, key, a password in the base URL, a server that echoes
credentials, --log-file, the event's original values, how --restore-from is spelled) and a short list
of steps: faults and signals at the n-th request of a phase, a deadline, a second run, a later writer, a
crafted journal or HAR. A phase is the run's judging ("run"), the run's restore ("restore"), or the first
`--restore-from` that follows ("restore-from"); "the run" is the first suite process. The fault front
(tests/fault_front.py) applies the steps.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from fpjs_conformance import profile as profiles
from fpjs_conformance.preflight import most_requests
from fpjs_conformance.runstate import Exit
from tests.fault_front import CANNED, DROPS, Seen

RUN_REQUESTS = 180  # a `table` run sends about this many requests before its restore
HOLD_TIMEOUT = 4.0  # --run-timeout of a schedule that holds a request past it
RACE_IDLE = 1.0  # README: a close after a kept-alive connection sat idle this long is a keep-alive race
MARGIN = 0.25  # seconds of slack on either side of a timing rule: within it, either outcome is right
KEY_CHARS = "".join(c for c in string.printable if c not in string.whitespace)  # what a key may hold
USER = "fpjs-user"
PHASES = ("run", "restore", "restore-from")
UNANSWERED = ("close", "hang", "lost")  # faults no retry of the same connection's kind answers

ORIGINALS = (
    {"linked_id": "customer-42", "tags": {"order": {"id": 7, "items": [1, 2]}}, "suspect": True},
    {"linked_id": "", "tags": {}, "suspect": False},
)
LATER = {"linked_id": "later-writer", "tags": {"by": "someone else"}, "suspect": False}
CRAFTED_ORIGINAL = {"linked_id": "from-another-target", "tags": {"elsewhere": True}, "suspect": False}


# -- steps -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    """The n-th request of `phase` (PHASES) gets fault `kind` (fault_front.FAULTS)."""

    phase: str
    n: int
    kind: str


@dataclass(frozen=True)
class Refuse:
    """From the n-th request of `phase` (PHASES) on, every request of that phase gets fault `kind`: a target
    that goes away for good (a restore that cannot finish)."""

    phase: str
    n: int
    kind: str


@dataclass(frozen=True)
class Late:
    """Every k-th request of the run phase is acted on `delay` s late, under --run-timeout=`run_timeout`."""

    every: int
    delay: float
    run_timeout: float


@dataclass(frozen=True)
class Timeout:
    """The run's n-th request is held until its --run-timeout (HOLD_TIMEOUT) has passed, then acted on."""

    n: int

    @property
    def at_request(self) -> int:
        return self.n


@dataclass(frozen=True)
class Signal:
    """When the n-th request of `phase` (PHASES) arrives, these signals go to its process, one after the other."""

    phase: str
    n: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class SecondRun:
    """Another run on the same event and target: with the run (at=0), at its n-th request, or after it
    ended (at=None); its report folder the run's ("same") or its own ("fresh"); the run's version or the
    other one. `overlap`: the run's n-th request waits until the second run's preflight is over (both
    read the event before either writes, as two runs started at the same moment can)."""

    at: int | None
    folder: str
    version: str
    overlap: bool = False

    @property
    def at_request(self) -> int | None:
        return self.at or None


@dataclass(frozen=True)
class LaterWriter:
    """After the runs, someone writes LATER to the event directly (before any --restore-from)."""


@dataclass(frozen=True)
class CollectOnly:
    """`--collect-only --restore-from=<the run's journal>` before the real --restore-from."""


@dataclass(frozen=True)
class CraftedJournal:
    """--restore-from of the run's journal altered to name another event, another target, or given
    with another key."""

    kind: str


@dataclass(frozen=True)
class CraftedHar:
    """`fpjs-conformance replay` of the run's traffic.har altered so its entries name another, real event."""


POST_STEPS = (LaterWriter, CollectOnly, CraftedJournal, CraftedHar)


@dataclass(frozen=True)
class Inputs:
    version: str = "v3"
    key: str = "kf3a9c1e07b2d5486a1c9e3f0"
    password: str | None = None  # in the base URL (v3 only: v4 sends the key in Authorization)
    echo: bool = False  # the server echoes the credentials it got in a response header
    log_file: bool = False
    original: int = 0  # index into ORIGINALS
    restore_form: str = "equals"  # --restore-from=PATH, or --restore-from PATH ("space")


@dataclass(frozen=True)
class Schedule:
    inputs: Inputs = field(default_factory=Inputs)
    steps: tuple[Any, ...] = ()

    def of(self, kind: type) -> list[Any]:
        return [s for s in self.steps if isinstance(s, kind)]

    @property
    def run_timeout(self) -> float | None:
        limits = [s.run_timeout for s in self.of(Late)] + [HOLD_TIMEOUT for _ in self.of(Timeout)]
        return min(limits) if limits else None

    @property
    def request_timeout(self) -> float | None:
        """Short when a request is left unanswered on purpose (the suite then waits that long)."""
        hangs = any(s.kind in ("hang", "lost") for s in self.of(Fault))
        return 3.0 if hangs else None


# -- inputs Hypothesis draws -----------------------------------------------------------------------
def field_names(version: str) -> list[str]:
    return sorted(profiles.load(version).field_names)


def _token(seed: bytes) -> str:
    """20 hex characters from Hypothesis's bytes: a key stays identifiable however far it shrinks."""
    return hashlib.sha256(seed).hexdigest()[:20]


def keys(version: str) -> st.SearchStrategy[str]:
    """Keys the document allows (printable ASCII without spaces): plain; holding `+ / =` or any other
    printable character; long; or equal to a body field name of the version."""
    token = st.binary(min_size=1, max_size=8).map(_token)
    odd = st.sampled_from(["+/=", "+", "/", "=", "%2B", '"\\', "<&>'", "?#&"]) | st.text(
        KEY_CHARS, min_size=1, max_size=6
    )
    return st.one_of(
        token,
        st.tuples(token, odd).map(lambda t: t[0][:10] + t[1] + t[0][10:]),
        token.map(lambda t: (t * 13)[:256]),
        st.sampled_from(field_names(version)),
    )


def passwords() -> st.SearchStrategy[str]:
    token = st.binary(min_size=1, max_size=8).map(_token)
    return st.tuples(token, st.sampled_from(["", "+", "=", "+=", "-._~", "!$*"])).map(
        lambda t: t[0][:8] + t[1] + t[0][8:]
    )


@st.composite
def inputs(draw) -> Inputs:
    version = draw(st.sampled_from(["v3", "v4"]))
    return Inputs(
        version=version,
        key=draw(keys(version)),
        password=draw(st.none() | passwords()) if version == "v3" else None,
        echo=draw(st.booleans()),
        log_file=draw(st.booleans()),
        original=draw(st.sampled_from(range(len(ORIGINALS)))),
        restore_form=draw(st.sampled_from(["equals", "space"])),
    )


GONE = ("503", "reset-before", "reset-after")  # how a target that went away for good answers (Refuse)
PAST_PREFLIGHT = max(most_requests(profiles.load(v)) for v in profiles.versions()) + 1
SIGNALS = (("SIGTERM",), ("SIGINT",), ("SIGTERM", "SIGINT"), ("SIGINT", "SIGINT"), ("SIGTERM", "SIGTERM"), ("SIGKILL",))


def steps() -> st.SearchStrategy[Any]:
    run_n = st.integers(1, RUN_REQUESTS)
    restore_n = st.integers(1, 3)
    restoring = st.sampled_from(PHASES[1:])
    kinds = st.sampled_from((*CANNED, *DROPS, "delay"))
    return st.one_of(
        st.builds(Fault, st.just("run"), run_n, kinds),
        st.builds(Fault, restoring, restore_n, kinds),
        st.builds(Refuse, st.just("run"), st.integers(PAST_PREFLIGHT, RUN_REQUESTS), st.sampled_from(GONE)),
        st.builds(Refuse, restoring, restore_n, st.sampled_from(GONE)),
        st.builds(Late, st.integers(3, 10), st.sampled_from([0.1, 0.4]), st.sampled_from([3.0, 4.0])),
        st.builds(Timeout, run_n),
        st.builds(Signal, st.just("run"), run_n, st.sampled_from(SIGNALS)),
        st.builds(Signal, st.just("restore"), restore_n, st.sampled_from(SIGNALS)),
        st.builds(Signal, st.just("restore-from"), restore_n, st.sampled_from(SIGNALS[:-1])),
        st.builds(
            SecondRun,
            st.none() | st.just(0) | run_n,
            st.sampled_from(["same", "fresh"]),
            st.sampled_from(["same", "other"]),
            st.booleans(),
        ),
        st.just(LaterWriter()),
        st.just(CollectOnly()),
        st.builds(CraftedJournal, st.sampled_from(["event", "target", "key"])),
        st.just(CraftedHar()),
    )


def schedules() -> st.SearchStrategy[Schedule]:
    return st.builds(Schedule, inputs(), st.lists(steps(), max_size=3).map(tuple))


# -- what README promises ------------------------------------------------------------------------------
@dataclass
class Happened:
    """What the front saw of the run: which steps fired, on which requests."""

    fired: list[tuple[Any, Seen]] = field(default_factory=list)
    popen_at: float = 0.0  # when the run's process was started (its deadline counts from later)
    first_at: float | None = None  # its first request
    marker_at: float | None = None  # its restore began
    run_done: list[float] = field(default_factory=list)  # when each request of its run phase was done


def run_codes(schedule: Schedule, happened: Happened) -> set[int]:
    """The exit codes README ("When is green green?", "Against a real server") allows the run, given
    what fired. A timing rule decided within MARGIN allows both outcomes."""
    profile = profiles.load(schedule.inputs.version)
    mine = [(s, seen) for s, seen in happened.fired if getattr(s, "phase", "run") in PHASES[:2]]
    signals = [s for s, _ in mine if isinstance(s, Signal)]
    if any("SIGKILL" in s.names for s in signals):
        return {-9}
    if signals:
        return {Exit.INTERRUPTED}  # "2 interrupted (Ctrl-C, SIGTERM)", a signal during the restore too
    violated, maybe = False, False
    races = 0
    # A target gone for good: during the run it stopped answering (1); during the restore, the restore cannot
    # finish ("could not restore": 10, after 2 and 1 in README's order).
    refused = {s.phase for s, _ in mine if isinstance(s, Refuse)}
    violated |= "run" in refused
    for step, seen in mine:
        if not isinstance(step, Fault):
            continue
        effect = fault_effect(step.kind, seen, races, preflight=seen.index <= most_requests(profile))
        races += effect == "race"
        if seen.phase == "run":
            violated |= effect == "violation"
            maybe |= effect == "either"
        elif step.kind in UNANSWERED:  # the restore's requests: a dropped request fails UE-TRANSPORT-01, and an
            # unanswered restore ends as "could not restore" (issue 24, 5; 10): README does not say which wins.
            maybe = True  # (429, 503 and resets are retried within the restore's reserve: no effect)
    timeout = timed_out(schedule, happened)
    violated |= timeout is True
    maybe |= timeout is None
    if violated:
        return {Exit.VIOLATED}  # "1 ... a target that stopped answering, or the run timeout"
    if "restore" in refused:
        return {Exit.VIOLATED, Exit.NOT_RESTORED} if maybe else {Exit.NOT_RESTORED}
    return {Exit.OK, Exit.VIOLATED, Exit.NOT_RESTORED} if maybe else {Exit.OK}


def restore_from_codes(happened: Happened, later_writer: bool) -> set[int]:
    """What README allows the first --restore-from: 0 once restored; 6 when it did not restore (a later
    writer's values are left alone: issue 24, "What to build" 2); 10 when it could not finish (the target
    went away); 2 after a signal (the same, 7)."""
    mine = [(s, seen) for s, seen in happened.fired if getattr(s, "phase", None) == "restore-from"]
    if any(isinstance(s, Signal) for s, _ in mine):
        return {Exit.INTERRUPTED}
    if any(isinstance(s, Refuse) for s, _ in mine):
        return {Exit.NOT_RESTORED}
    codes = {Exit.SETUP} if later_writer else {Exit.OK}
    if any(isinstance(s, Fault) and s.kind in UNANSWERED for s, _ in mine):
        codes |= {Exit.NOT_RESTORED}  # retried within the reserve, or "could not restore" with the journal open
    return codes


def fault_effect(kind: str, seen: Seen, races_before: int, preflight: bool = False) -> str:
    """What README says one fault does to a run: "none" (retried or waited out), "race" (a keep-alive race:
    sent again), "violation" (a server error, or a request without an answer: UE-RESP-02, UE-TRANSPORT-01),
    or "either" (a timing rule within MARGIN, or a rule README leaves open). `preflight`: the request may
    be one of the preflight's."""
    if kind in ("429", "429-retry-after", "delay"):
        return "none"  # "A 429 is never a failure by itself"
    if kind == "503":
        # a 5xx: UE-RESP-02, "never a setup problem"; but "no clause is judged from [the preflight's] requests"
        return "either" if preflight else "violation"
    if kind in ("reset-before", "reset-after"):
        # "A connection reset under the request ... is always resent" (on a kept-alive connection)
        return "violation" if seen.fresh else "none"
    if kind == "close" and not seen.fresh and races_before == 0:
        # "one closed after the server read the request is a keep-alive race only once in a run and only
        # after the connection sat idle for a second"
        if seen.idle >= RACE_IDLE + MARGIN:
            return "race"
        if seen.idle > RACE_IDLE - MARGIN:
            return "either"
    return "violation"  # close, hang, lost: "Anything else is a dropped request and fails UE-TRANSPORT-01"


def timed_out(schedule: Schedule, happened: Happened) -> bool | None:
    """Whether the run timeout passed while the run was still judging: True, False, or None (too close to
    call). Its deadline lies between the process start and the first request, plus --run-timeout."""
    limit = schedule.run_timeout
    if limit is None:
        return False
    if happened.first_at is not None and any(done > happened.first_at + limit + MARGIN for done in happened.run_done):
        return True  # a request was in flight, or sent, after any possible deadline
    if happened.marker_at is not None and happened.marker_at < happened.popen_at + limit - MARGIN:
        return False  # the run's tests were over before its earliest possible deadline
    return None
