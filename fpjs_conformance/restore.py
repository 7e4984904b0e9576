"""After the run: leave the designated event as found, and say how that went (never more than was seen)."""

from __future__ import annotations

from typing import Any

from fpjs_conformance import checks
from fpjs_conformance.designated import UNKNOWN
from fpjs_conformance.target import Target
from fpjs_conformance.transport import BudgetSpent


def restore(target: Target, *, no_restore: bool = False) -> dict[str, Any]:
    """Write the original values back and read again; say how it went. Never claims more than it saw."""
    state, profile = target.state, target.profile
    if no_restore:
        return {"status": "off", "why": "--no-restore"}
    if not state.wrote:
        return {"status": "unchanged", "why": "no update of it was accepted"}
    if state.original is None:
        return {"status": "not restored", "why": "the event could not be read before the run"}
    try:
        last_seen = state.seen
        expected = {k: state.expected(k) for k in profile.field_names.values()}  # before this read
        now = target.read_back(reserved=True)
        if now.stored is not None:
            seen = profile.to_store({**profile.absent_reads_as, **now.stored})
            changed = sorted(
                k
                for k in profile.field_names.values()
                if expected[k] is not UNKNOWN
                and not checks.same_json(seen.get(k), expected[k])
                and (last_seen is None or not checks.same_json(seen.get(k), last_seen.get(k)))
            )
            if changed:
                return {
                    "status": "concurrent writer",
                    "why": f"{', '.join(profile.to_wire(dict.fromkeys(changed)))} changed by someone else during the "
                    "run; not restored (each concurrent run needs its own event)",
                }
        body = profile.to_wire(state.original)
        notes = [f"{k} was unset; the API cannot unset it" for k in profile.fields if k not in body]
        ex = target.send(target.build_update(body), reserved=True)
        if ex.status != 200:
            return {"status": "could not restore", "why": f"the write-back was answered {ex.received()}"}
        state.written.update(state.original)
        after = target.read_back(reserved=True)
    except BudgetSpent:  # pragma: no cover - the reserve covers these three requests
        return {"status": "could not restore", "why": "the request budget was spent"}
    if after.stored is None:
        return {"status": "could not restore", "why": f"reading it back failed: {after.why}"}
    shown = {**profile.absent_reads_as, **after.stored}
    wrong = sorted(k for k in body if not checks.same_json(shown.get(k), body[k]))
    if wrong:
        return {"status": "could not restore", "why": f"read back differs in {', '.join(wrong)}"}
    unset_changed = [k for k in profile.fields if k not in body and k in after.stored]
    return {"status": "partly restored" if unset_changed else "restored", "why": "; ".join(notes)}
