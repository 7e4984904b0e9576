"""Before anything is judged: does the target answer, does it serve the version, are the designated
events usable?

A missing event, one past its window or not updatable, a refused key, an event that cannot be read
first (so could not be restored), or one that holds this suite's own probe values (another run is on
it, or one did not finish) is a setup problem: one line, not the server's fault, and no clause is
judged from the preflight's requests. A version whose paths answer 404 or 405 with no event behind
them is not served. The original values of the designated event are recorded (the journal) before
the first write.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fpjs_conformance import profile as profiles
from fpjs_conformance import provenance
from fpjs_conformance.designated import UNKNOWN, Journal
from fpjs_conformance.model import NO_KEY, Exchange
from fpjs_conformance.options import RESTORE_RESERVE
from fpjs_conformance.profile import Profile
from fpjs_conformance.readback import SERVER_FAULTS, ReadBack
from fpjs_conformance.table import MARKER, PROBE_MARK, UNKNOWN_LIVE_SHAPE, probe_body
from fpjs_conformance.target import SetupProblem, Target, TargetUnreachable

_READ_PROBLEMS = {
    "no-route": "the target serves no read-back",
    "garbage": "the read-back answered garbage",
    "": "unknown",
}
NO_ROUTE = frozenset({404, 405})  # what a server answers on a path or method it does not serve


class NotServed(SetupProblem):
    """The target does not serve this API version at all (its paths answer 404/405, no event behind them)."""


def most_requests(profile: Profile) -> int:
    """The most requests one version's preflight sends: an update without a key, the read-back and the
    harmless update with the key in each place, the claim and its read-back, and a read of the expired
    event."""
    return 1 + 2 * len(profile.key_places) + 2 + 1


def least_requests(versions: tuple[str, ...], no_restore: bool) -> int:
    """The fewest requests a run can be judged in: every version's preflight, and the restore's reserve."""
    reserve = 0 if no_restore else RESTORE_RESERVE
    return sum(most_requests(profiles.load(v)) for v in versions) + reserve


def preflight(
    target: Target, *, no_restore: bool = False, journal_dir: Path | None = None, claim: str | None = None
) -> None:
    """Check the target answers and the designated events are usable, before judging anything.

    Raises SetupProblem (NotServed) with one line when they are not; records the original values to
    restore, and begins the journal in `journal_dir`, before the first write.
    """
    state, profile = target.state, target.profile
    # Does it answer? Asked of an impossible event without a key: nothing can change, and it is marked so
    # that no case of the table repeats it.
    reach = {**probe_body(profile), MARKER: "preflight"}
    first = target.send(target.build_update(reach, credentials=NO_KEY, event_id=UNKNOWN_LIVE_SHAPE))
    if first.error:
        target.judge_server_fault(first, "transport")  # the server's fault: on record
        hint = " (a private CA? pass --ca-bundle)" if "certificate" in first.error.lower() else ""
        raise TargetUnreachable(f"UE-TRANSPORT-01: cannot reach {target.base_url}: {first.error}{hint}")
    got = _read_designated(target)
    if got.problem in SERVER_FAULTS:  # the server's fault, not the setup's
        target.judge_server_fault(got.exchange, got.problem)
        raise TargetUnreachable(f"cannot read the designated event back: {got.why}")
    target.reads_back = got.stored is not None
    target.begin_view(got)
    if got.problem == "no-route":
        _served(target, got)
    if got.stored is not None and not state.read:
        original = profile.to_store(got.stored)
        if not no_restore and looks_like_probe(profile, got.stored):
            raise SetupProblem(
                f"designated event {target.events.live} holds this suite's own probe values "
                f"({_short(original)}): another run is on it, or one did not finish. Wait for it, or put the "
                "original back with --restore-from <its reports/restore.json>, or designate another event"
            )
        state.original = original
        state.written = profile.to_store({**profile.absent_reads_as, **got.stored})
        if journal_dir is not None:
            try:
                state.journal = Journal.begin(
                    journal_dir,
                    provenance=provenance.record(target.base_url, target.events.live, target.transport.secrets.api_key),
                    target=target.base_url,
                    version=target.version,
                    original=original,
                    embedded=target.embedded,
                )
            except OSError as exc:  # nothing is written to the event without its original on record
                raise SetupProblem(f"{exc}: the original values could not be recorded before the first write") from None
    elif got.stored is not None and state.journal is not None:
        state.journal.add_target(target.version, target.base_url)
    elif got.problem == "not-found":
        raise _url_of_another_version(target, f"designated event {target.events.live} not found ({got.why})")
    elif got.problem == "refused":
        raise _url_of_another_version(target, f"the API key was refused reading the designated event ({got.why})")
    elif not no_restore and not state.read:
        raise SetupProblem(
            f"cannot read the designated event {target.events.live} first ({_READ_PROBLEMS[got.problem]}: {got.why}),"
            " so it could not be restored: pass --no-restore to let the suite change it anyway"
        )
    first = not state.read
    state.read = True
    _probe_update(target, got.stored)
    if claim and first and target.reads_back and not no_restore:
        _claim(target, claim)
    expired = target.events.expired
    if expired and target.reads_back:
        days = _age_days(target, target.read_back(expired).stored)
        window = profile.update_window_days
        if days is not None and 0 <= days <= window:
            raise SetupProblem(
                f"--expired-request-id {expired} is only {days:.1f} days old: {target.version} still "
                f"updates it (its window is {window} days)"
            )


def looks_like_probe(profile: Profile, stored: dict[str, Any]) -> bool:
    """Whether an event's fields (as the read-back shows them) hold values this suite writes: an object
    carrying the probe mark, or a string of the suite's."""
    for name, kind in profile.field_types.items():
        value = stored.get(name)
        if kind == "object" and isinstance(value, dict) and PROBE_MARK in value:
            return True
        if kind == "string" and isinstance(value, str) and value.startswith(f"{PROBE_MARK}-"):
            return True
    return False


def _served(target: Target, got: ReadBack) -> None:
    """The read-back has no route: if the update has none either, the version is not served here."""
    update = target.send(target.build_update(_harmless_body(target)))
    if update.status in NO_ROUTE and not _names_the_event(target, update):
        p = target.profile
        other = _version_at(target)
        if other is not None:
            raise _url_of_another_version(target, f"{got.exchange.status if got.exchange else '?'} and {update.status}")
        raise NotServed(
            f"{target.version} is not served at {target.base_url}: {p.read_back_method} and {p.update_method} "
            f"{p.server_path}{p.update_path} answer {got.exchange.status if got.exchange else '?'} and "
            f"{update.status} with no event behind them; leave {target.version} out of --api-version"
        )


def _version_at(target: Target) -> str | None:
    """The API version the base URL looks like when it is not this one's: its path ends with another
    version's servers' path, or lacks this version's (the documents' servers say where each lives)."""
    served = profiles.served_at(target.base_url)
    if target.version in served:
        return None
    if not served and target.profile.server_path:  # this version's path is missing: a version without one
        served = [v for v in profiles.versions() if v != target.version and not profiles.load(v).server_path]
    return served[0] if served else None


def _url_of_another_version(target: Target, why: str) -> SetupProblem:
    """The setup problem to report: that the URL serves another version, when it looks like it does (a
    refused key or a missing event is then only what that version answers to this version's request)."""
    other = _version_at(target)
    if other is None:
        return SetupProblem(why)
    mine, theirs = target.profile.server_path, profiles.load(other).server_path
    where = f"its path ends in {theirs}" if theirs else f"its path does not end in {mine}"
    return NotServed(
        f"{target.base_url} serves {other}, not {target.version} ({where}; {other}'s servers are there): "
        f"pass --api-version={other} for it, or {target.version}'s URL; {target.version}'s requests there got: {why}"
    )


def _names_the_event(target: Target, ex: Exchange) -> bool:
    return target.profile.role("unknown_event").allows(ex.status, ex.error_code())


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
    carry any timestamp). It is not judged: the table judges its own requests."""
    profile = target.profile
    body = _harmless_body(target)
    ex = None
    for place in profile.key_places:
        ex = target.send(target.build_update(body, credentials=target.valid_key(place.name)))
        if ex.status not in profile.refusal_statuses:
            break
    assert ex is not None
    code = ex.error_code()
    if ex.error:
        target.judge_server_fault(ex, "transport")
        raise TargetUnreachable(f"UE-TRANSPORT-01: the update of the designated event got no answer: {ex.error}")
    if ex.status in profile.refusal_statuses:
        raise _url_of_another_version(
            target, f"the API key was refused updating the designated event ({ex.status} {code!r})"
        )
    age = _age_note(target, stored)
    live = target.events.live
    if ex.status in profile.role("unknown_event").statuses:
        raise _url_of_another_version(target, f"designated event {live} not found ({ex.status} {code!r}){age}")
    if profile.role("not_ready").allows(ex.status, code):
        waited = target.transport.policy.not_ready_budget
        raise SetupProblem(
            f"designated event {live} is not updatable yet ({ex.status} {code!r} for {waited:g}s, the not-ready "
            "budget: --not-ready-budget)"
        )
    bad_request = profile.role("bad_request")
    if ex.status in bad_request.statuses and not bad_request.allows(ex.status, code):
        raise SetupProblem(f"designated event {live} is not updatable ({ex.status} {code!r}){age}")


def claim_body(profile: Profile, claim: str) -> dict[str, Any]:
    """This run's claim on the designated event: a value marked as the suite's (an object carrying the probe
    mark, else a marked string) that names the run, in the first field that can hold one."""
    for name in profile.fields_of_type("object"):
        return {name: {PROBE_MARK: "claim", "run": claim}, MARKER: "preflight"}
    for name in profile.fields_of_type("string"):
        return {name: f"{PROBE_MARK}-claim-{claim}", MARKER: "preflight"}
    return {**probe_body(profile), MARKER: "preflight"}


def _claim(target: Target, claim: str) -> None:
    """Claim the designated event and read the claim back. Two runs started on one event at once both pass
    the rest of the preflight; the one whose claim the other's replaced stops here, before its table, with
    a line naming what it found (it restores nothing: the event is the other run's to put back)."""
    profile = target.profile
    body = claim_body(profile, claim)
    ex = target.send(target.build_update(body))
    if ex.status != 200:
        return  # the table judges what the target does with updates
    got = target.read_back()
    if got.stored is None:
        return
    mine = {k: v for k, v in body.items() if k in profile.fields}
    shown = {k: got.stored.get(k) for k in mine}
    if shown != mine and looks_like_probe(profile, got.stored):
        target.state.yielded = True
        raise SetupProblem(
            f"another run of this suite is on designated event {target.events.live}: right after this run "
            f"claimed it, it showed {_short(shown)}. Each run needs its own event; this run stops and leaves the "
            "event to the other (which restores it)"
        )


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


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
