"""After the run: leave the designated event as found, and say how that went (never more than was seen).

The restore is a phase of its own: its requests have their own reserve of the request budget (429
retries included) and their own deadline (`Policy.grace` past the run's), and no stop request
interrupts them, so it runs after a signal, a timeout or a spent budget alike. Before writing, it reads
the event: a value that nothing this run sent explains is someone else's (a concurrent writer: not
overwritten); a value the server's storage made of the run's own (merged, trimmed, normalized, a stale
copy) is a fault of the server, recorded under the clause it breaks, and restored.
"""

from __future__ import annotations

from typing import Any

from fpjs_conformance import checks
from fpjs_conformance.checks import Violation
from fpjs_conformance.designated import NOT_FINISHED, digest
from fpjs_conformance.limits import BudgetSpent
from fpjs_conformance.rules import semantics
from fpjs_conformance.target import Target
from fpjs_conformance.transport import RunTimedOut

# How the read-back before the restore can differ from what the run left, as the server's own doing.
STORAGE_FAULTS = {
    "stale": "an older value of this run's, not the last one it wrote",
    "merged": "this run's own objects merged into one",
    "normalized": "this run's own string, trimmed, cut or normalized",
}


def restore(target: Target, *, no_restore: bool = False) -> dict[str, Any]:
    """Write the original values back and read again; say how it went. Never claims more than it saw.

    A write that got no answer may still land: the restore first waits `Policy.late_write_settle` for it,
    and after the write-back waits again and reads once more; a late write found then is written over
    once more, and if it comes back again the restore says it could not be sure."""
    state, profile = target.state, target.profile
    if no_restore:
        return {"status": "off", "why": "--no-restore"}
    if not state.wrote:
        return {"status": "unchanged", "why": "no update of it was accepted"}
    if state.original is None:
        return {"status": "not restored", "why": "the event could not be read before the run"}
    if state.yielded:
        return {
            "status": "left to another run",
            "why": "another run of the suite claimed it as this one started: that run restores it; if it does not, "
            "put the original back with --restore-from this run's journal",
        }
    late = state.awaiting
    try:
        if late:
            target.transport.settle(target.transport.policy.late_write_settle)
        now = target.read_settled(reserved=True)
        if now.stored is None:
            return {"status": NOT_FINISHED, "why": f"reading it before the restore failed: {now.why}"}
        if not state.landed and not late and _holds(target, now.stored, state.original):
            # Every write was refused (a probe of an event past its window) and none stored: nothing to put back
            # (a server that stores what it refuses shows other values, and is written back).
            return {"status": "unchanged", "why": "every update of it was refused, and it holds its original values"}
        shown = profile.to_store({**profile.absent_reads_as, **now.stored})
        how = {k: state.explain(k, shown.get(k)) for k in profile.field_names.values()}
        foreign = sorted(k for k, h in how.items() if h == "foreign")
        if foreign:
            return {
                "status": "concurrent writer",
                "why": f"{', '.join(profile.to_wire(dict.fromkeys(foreign)))} hold values nothing this run sent "
                "explains: someone else changed the event during the run; not restored (each concurrent run "
                "needs its own event)",
            }
        notes = _storage_faults(target, how, shown, now.exchange)
        outcome = write_back(target, state.original)
        if late and outcome["status"] in ("restored", "partly restored"):
            outcome = _after_late_writes(target, state.original, late, outcome)
    except BudgetSpent:
        return {"status": NOT_FINISHED, "why": "the restore's reserve of the request budget was spent"}
    except RunTimedOut:
        return {"status": NOT_FINISHED, "why": "the restore's own deadline passed (the run timeout + grace)"}
    outcome["why"] = "; ".join(w for w in (outcome.get("why", ""), *notes) if w)
    return outcome


def _after_late_writes(target: Target, original: dict[str, Any], late: int, outcome: dict[str, Any]) -> dict[str, Any]:
    """`late` writes got no answer: wait, read again, and write the original over a late one once more."""
    settle = target.transport.policy.late_write_settle
    for _round in range(2):
        target.transport.settle(settle)
        again = target.read_back(reserved=True)
        if again.stored is not None and _holds(target, again.stored, original):
            note = f"{late} write(s) got no answer; read again {settle:g}s after the write-back: the original values"
            return {**outcome, "why": "; ".join(w for w in (outcome.get("why"), note) if w)}
        if again.stored is None:
            return {"status": NOT_FINISHED, "why": f"reading it again after the write-back failed: {again.why}"}
        outcome = write_back(target, original)
        if outcome["status"] not in ("restored", "partly restored"):
            return outcome
    return {
        "status": NOT_FINISHED,
        "why": f"{late} write(s) that got no answer kept landing after the write-back: not sure it stays restored",
    }


def _holds(target: Target, stored: dict[str, Any], original: dict[str, Any]) -> bool:
    """The read-back shows the original values (a field left out reads as its absent value)."""
    profile = target.profile
    shown = profile.to_store({**profile.absent_reads_as, **stored})
    want = profile.to_store({**profile.absent_reads_as, **profile.to_wire(original)})
    return all(checks.same_json(shown.get(k), v) for k, v in want.items())


def restore_from(target: Target, journal: dict[str, Any], *, force: bool = False) -> dict[str, Any]:
    """`--restore-from`: put back the original values a journal holds, only while the event still holds values
    the journaled run sent (by their digests) or the original: a value it never sent is a later writer's,
    and nothing is changed unless `force`."""
    profile = target.profile
    try:
        now = target.read_back(reserved=True)
        if now.stored is None:
            return {"status": NOT_FINISHED, "why": f"reading it first failed: {now.why}"}
        original, sent = journal["original"], journal.get("sent", {})
        if _holds(target, now.stored, original):
            return {"status": "unchanged", "why": "the event already holds the original values"}
        shown = profile.to_store({**profile.absent_reads_as, **now.stored})
        unset = profile.to_store(profile.absent_reads_as)
        strangers = sorted(
            k
            for k, v in shown.items()
            if k in profile.field_names.values()
            and digest(v) not in sent.get(k, [])
            and not checks.same_json(v, original.get(k, unset.get(k)))
        )
        names = ", ".join(profile.to_wire(dict.fromkeys(strangers)))
        if strangers and not force:
            return {
                "status": "later writer",
                "why": f"{names} hold values the journaled run never sent: someone wrote the event after it; "
                "nothing was changed (--force-restore puts the original back anyway)",
            }
        outcome = write_back(target, original)
    except (BudgetSpent, RunTimedOut) as exc:
        return {"status": NOT_FINISHED, "why": str(exc)}
    if strangers:
        outcome["why"] = "; ".join(w for w in (outcome.get("why"), f"{names} held values the run never sent") if w)
    return outcome


def write_back(target: Target, original: dict[str, Any]) -> dict[str, Any]:
    """Write `original` (store names) back, a field that was unset as what unset reads as (a false flag,
    an empty linked id), and read it again."""
    profile, state = target.profile, target.state
    body = {**profile.absent_reads_as, **profile.to_wire(original)}
    notes = [f"{k} was unset and the API cannot unset it" for k in profile.fields if k not in body]
    ex = target.send(target.build_update(body), reserved=True)
    if ex.status != 200:
        return {"status": NOT_FINISHED, "why": f"the write-back was answered {ex.received()}"}
    state.written.update(profile.to_store(body))
    after = target.read_settled(reserved=True)
    if after.stored is None:
        return {"status": NOT_FINISHED, "why": f"reading it back failed: {after.why}"}
    shown = {**profile.absent_reads_as, **after.stored}
    wrong = sorted(k for k in body if not checks.same_json(shown.get(k), body[k]))
    if wrong:
        return {"status": NOT_FINISHED, "why": f"read back differs in {', '.join(wrong)}"}
    unset_changed = [k for k in profile.fields if k not in body and k in after.stored]
    return {"status": "partly restored" if unset_changed else "restored", "why": "; ".join(notes)}


def _storage_faults(target: Target, how: dict[str, str], shown: dict[str, Any], ex) -> list[str]:
    """Record each field the server's storage changed (under the clause it breaks); notes for the outcome."""
    profile, state = target.profile, target.state
    notes = []
    for k, kind in sorted(how.items()):
        if kind not in STORAGE_FAULTS:
            continue
        clause_id = semantics.REPLACES if kind == "merged" else semantics.STORED
        name = next(iter(profile.to_wire({k: None})))
        violation = Violation(
            clause_id,
            f"read-back {name} as this run last wrote it: {_short(state.expected(k))}",
            f"read-back {name} {_short(shown.get(k))} ({STORAGE_FAULTS[kind]})",
            ex,
        )
        violation.check = checks.stored_fields_match.__name__
        target.record_violation(violation)
        notes.append(f"before it, the read-back showed {name} {kind} ({clause_id})")
    return notes


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
