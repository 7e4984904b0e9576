"""Before anything is judged: does the target answer, and are the designated events usable?

A missing event, one past its window or not updatable, a refused key, or an event that cannot be
read first (so could not be restored) is a setup problem: one line, not the server's fault. The
original values of the designated event are recorded here, before the first write.
"""

from __future__ import annotations

import time
from typing import Any

from fpjs_conformance.designated import UNKNOWN
from fpjs_conformance.model import NO_KEY
from fpjs_conformance.table import MARKER, probe_body
from fpjs_conformance.target import SERVER_FAULTS, ReadBack, SetupProblem, Target, TargetUnreachable

_READ_PROBLEMS = {
    "no-route": "the target serves no read-back",
    "garbage": "the read-back answered garbage",
    "": "unknown",
}


def preflight(target: Target, *, no_restore: bool = False) -> None:
    """Check the target answers and the designated events are usable, before judging anything.

    Raises SetupProblem with one line when they are not; records the original values to restore.
    """
    state, profile = target.state, target.profile
    first = target.submit(target.build_update(credentials=NO_KEY)).exchange
    if first.error:
        hint = " (a private CA? pass --ca-bundle)" if "certificate" in first.error.lower() else ""
        raise TargetUnreachable(f"UE-TRANSPORT-01: cannot reach {target.base_url}: {first.error}{hint}")
    got = _read_designated(target)
    if got.problem in SERVER_FAULTS:  # the server's fault, not the setup's
        target.judge_failed_read(got)
        raise TargetUnreachable(f"cannot read the designated event back: {got.why}")
    target.reads_back = got.stored is not None
    if got.stored is not None and not state.read:
        state.original = profile.to_store(got.stored)
        state.written = profile.to_store({**profile.absent_reads_as, **got.stored})
    elif got.problem == "not-found":
        raise SetupProblem(f"designated event {target.events.live} not found ({got.why})")
    elif got.problem == "refused":
        raise SetupProblem(f"the API key was refused reading the designated event ({got.why})")
    elif not no_restore and not state.read:
        raise SetupProblem(
            f"cannot read the designated event {target.events.live} first ({_READ_PROBLEMS[got.problem]}: {got.why}),"
            " so it could not be restored: pass --no-restore to let the suite change it anyway"
        )
    state.read = True
    _probe_update(target, got.stored)
    expired = target.events.expired
    if expired and target.reads_back:
        days = _age_days(target, target.read_back(expired).stored)
        window = profile.update_window_days
        if days is not None and 0 <= days <= window:
            raise SetupProblem(
                f"--expired-request-id {expired} is only {days:.1f} days old: {target.version} still "
                f"updates it (its window is {window} days)"
            )


def _read_designated(target: Target) -> ReadBack:
    got = ReadBack(None)
    for place in target.profile.key_places:  # the key in any place it works in
        got = target.read_back(place=place.name)
        if got.problem != "refused":
            break
    return got


def _probe_update(target: Target, stored: dict[str, Any] | None) -> None:
    """A harmless update (a current value written back): is the event updatable at all? The answer
    decides; the event's age from the read-back only explains a refusal (a mock's example event may
    carry any timestamp)."""
    profile = target.profile
    body = _harmless_body(target)
    answers = []
    for place in profile.key_places:
        request = target.build_update(body, credentials=target.valid_key(place.name))
        answers.append((request, target.send(request)))
        if answers[-1][1].status not in profile.refusal_statuses:
            break
    request, ex = answers[-1]
    code = ex.error_code()
    if ex.status in profile.refusal_statuses:
        raise SetupProblem(f"the API key was refused updating the designated event ({ex.status} {code!r})")
    age = _age_note(target, stored)
    live = target.events.live
    if ex.status in profile.role("unknown_event").statuses:
        raise SetupProblem(f"designated event {live} not found ({ex.status} {code!r}){age}")
    if profile.role("not_ready").allows(ex.status, code):
        raise SetupProblem(f"designated event {live} is not updatable yet ({ex.status} {code!r})")
    bad_request = profile.role("bad_request")
    if ex.status in bad_request.statuses and not bad_request.allows(ex.status, code):
        raise SetupProblem(f"designated event {live} is not updatable ({ex.status} {code!r}){age}")
    for sent, answer in answers:  # usable: the probe counts like any other update
        target.judge_sent(sent, answer)


def _age_note(target: Target, stored: dict[str, Any] | None) -> str:
    days = _age_days(target, stored)
    window = target.profile.update_window_days
    if days is None or days <= window:
        return ""
    return (
        f": it is past its update window ({days:.1f} days old; {target.version} updates events up to "
        f"{window} days old), designate a fresh event"
    )


def _age_days(target: Target, stored: dict[str, Any] | None) -> float | None:
    millis = (stored or {}).get(target.profile.time_field)
    if not isinstance(millis, int | float) or isinstance(millis, bool):
        return None
    return (time.time() - millis / 1000) / 86400


def _harmless_body(target: Target) -> dict[str, Any]:
    """A current value written back, marked (an extra property) so that no later case repeats it."""
    profile = target.profile
    now = profile.to_wire({k: v for k, v in target.state.written.items() if v is not UNKNOWN})
    for name in profile.fields:
        if name in now:
            return {name: now[name], MARKER: "preflight"}
    return {**probe_body(profile), MARKER: "preflight"}
