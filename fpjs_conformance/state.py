"""The state oracle: the designated event's whole read-back, judged against the one before it and what
was sent in between.

Each API version reads the event in its own representation, so each has a `View` (its last read-back
body); the writes are shared (`EventState.expected`: what the run last left in each field, whichever
version wrote it), and so is the log of every request that may have touched the event (`Touch`: what
it carried, and whether it was accepted as an update of this event). At a read:

- an update field the read's own case does not compare shows something else than the run left: the
  request whose values it shows is to blame (every request the coverage table sends carries marks of
  its own, `fpjs-<version>-m<n>`, in every field it carries); one that had to change nothing breaks
  UE-STATE-02, an earlier accepted one's value back again breaks UE-SEM-02, as does a change no value
  explains after an accepted update; after only requests that had to change nothing, UE-STATE-02;
- any other member that differs from the view: a read-only member an accepted body carried (mass
  assignment) or any change after an accepted update breaks UE-STATE-01; after only requests that had
  to change nothing, UE-STATE-02;
- members the document says change on their own (`[read_back_changes]`) are not compared, nor a mirror
  of a field (`[read_back_mirrors]`) that holds the field's value or what it held.

With no request since the last read nothing is blamed (someone else may write the event: the restore
says so). Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance import shapes
from fpjs_conformance.checks import Violation, same_json, verdict
from fpjs_conformance.model import Exchange, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.rules import semantics
from fpjs_conformance.rules.state import (
    ONLY_NAMED,
    Change,
    nothing_changed,
    only_named_changed,
    read_back_answers,
    read_back_valid,
)

MARK = re.compile(r"fpjs-[A-Za-z0-9]+-m\d+")  # what `table.Table.mark` writes: unique per request and version


def mark(version: str, n: int) -> str:
    return f"fpjs-{version}-m{n}"


@dataclass(frozen=True)
class Touch:
    """A request that may have changed the designated event: what it carried, and how it was answered."""

    exchange: Exchange
    fields: dict[str, Any]  # update fields by store name (a JSON object body)
    members: frozenset[str]  # the body's other top-level names
    marks: frozenset[str]  # the marks anywhere in its body (JSON or not)
    applied: bool  # accepted as an update of the designated event: it may change what it names

    def explains(self, k: str, shown: Any) -> bool:
        """The value shown in field `k` is what this request carried, or holds one of its marks."""
        if k in self.fields and same_json(self.fields[k], shown):
            return True
        return bool(self.marks & marks_in(shown))


def touch(profile: Profile, request: Request, ex: Exchange, applied: bool) -> Touch:
    raw = request.body.encode() or b""
    found = frozenset(MARK.findall(raw.decode("utf-8", errors="replace")))
    ok, value = shapes.body_value(request.body) if request.body.present else (False, None)
    if not (ok and isinstance(value, dict)):
        return Touch(ex, {}, frozenset(), found, applied)
    members = frozenset(k for k in value if k not in profile.fields)
    return Touch(ex, profile.to_store(value), members, found, applied)


def marks_in(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(MARK.findall(value))
    if isinstance(value, dict):
        return set().union(*(marks_in(k) | marks_in(v) for k, v in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(marks_in(v) for v in value)) if value else set()
    return set()


@dataclass
class View:
    """One version's last read-back of the designated event, and where the shared log stood then."""

    body: Any = None
    seen: int = 0  # len(log) at that read


@dataclass
class Lag:
    """How long the target took to show the run's writes (`--settle-time`): the summary's figures."""

    settle_s: float = 2.0
    settled: int = 0  # reads that showed the run's last writes only after re-reading
    rereads: int = 0  # the extra reads that took
    max_lag_s: float = 0.0  # the longest wait from a write's answer to the read that showed it
    unsettled: int = 0  # reads that did not show them within the settle time (judged as they came)

    def as_dict(self) -> dict[str, Any]:
        return {
            "settle_s": self.settle_s,
            "reads_settled_late": self.settled,
            "rereads": self.rereads,
            "max_lag_s": round(self.max_lag_s, 3),
            "reads_never_settled": self.unsettled,
        }


def conformance(ex: Exchange, profile: Profile) -> list[tuple[str, Violation | None]]:
    """The read-back's own verdicts: it answers (UE-STATE-03), and validates (UE-STATE-04)."""
    out = [verdict(read_back_answers.clause_id, read_back_answers, ex, profile)]  # type: ignore[attr-defined]
    if out[0][1] is None:
        out.append(verdict(read_back_valid.clause_id, read_back_valid, ex, profile))  # type: ignore[attr-defined]
    return out


def judge(
    profile: Profile,
    view: View,
    body: Any,
    log: list[Touch],
    expected: dict[str, Any],
    compared: set[str],
) -> list[Violation]:
    """The findings of one read-back `body` (a JSON value) of the designated event: see the module docstring.
    `expected`: store name -> what the run last left (fields it cannot know left out); `compared`: store
    names the read's own case compares under its clause."""
    since = log[view.seen :]
    if not since or not isinstance(body, dict):
        return []
    found: list[Violation] = []
    stored = profile.stored(body) or {}
    shown = profile.to_store({**profile.absent_reads_as, **stored})
    fields: dict[tuple, list[Change]] = {}  # (kind, id(exchange)) -> changes; who: -> (kind, exchange, why)
    who: dict[tuple, tuple] = {}
    for k, want in expected.items():
        if k in compared:
            continue
        now = shown.get(k, _ABSENT)
        if now is not _ABSENT and same_json(now, want):
            continue
        change = Change(_wire(profile, k), want, None if now is _ABSENT else now, absent=now is _ABSENT)
        culprit = next((t for t in reversed(log) if now is not _ABSENT and t.explains(k, now)), None)
        blame = _who(culprit, since, field=k)
        who[blame[0], id(blame[1])] = blame
        fields.setdefault((blame[0], id(blame[1])), []).append(change)
    for key, changes in fields.items():
        kind, ex, why = who[key]
        found.append(_finding(kind, changes, ex, why, semantics.PARTIAL))
    if view.body is not None:
        members: dict[tuple, list[Change]] = {}
        for change, member in _member_changes(profile, view.body, body, expected):
            culprit = next((t for t in reversed(since) if member in t.members), None)
            blame = _who(culprit, since, member=member)
            who[blame[0], id(blame[1]), "member"] = blame
            members.setdefault((blame[0], id(blame[1]), "member"), []).append(change)
        for key, changes in members.items():
            kind, ex, why = who[key]
            found.append(_finding(kind, changes, ex, why, ONLY_NAMED))
    return [v for v in found if v is not None]


_ABSENT = object()


def _wire(profile: Profile, k: str) -> str:
    return next(iter(profile.to_wire({k: None})), k)


def _who(culprit: Touch | None, since: list[Touch], *, field: str = "", member: str = "") -> tuple:
    """(kind, the exchange to name, why) for a change: "leak" (a request that had to change nothing),
    "stale" (an accepted update's value back), "accepted" (the accepted updates since), "refused"."""
    if culprit is not None and not culprit.applied:
        what = f"it shows what this request carried ({culprit.exchange.status or 'no answer'})"
        return "leak", culprit.exchange, what
    applied = [t for t in since if t.applied]
    if culprit is not None and member:
        return "accepted", culprit.exchange, f"this accepted update carried {member!r}, a member it cannot set"
    if culprit is not None:
        last = applied[-1].exchange if applied else culprit.exchange
        return "stale", last, "an earlier accepted value is back"
    if applied:
        n = len(applied)
        why = "after this accepted update" if n == 1 else f"after this and {n - 1} more accepted update(s)"
        return "accepted", applied[-1].exchange, why
    n = len(since)
    why = "after this request, which had to change nothing" if n == 1 else f"after this and {n - 1} more"
    return "refused", since[-1].exchange, why + " (requests that had to change nothing)"


def _finding(kind: str, changes: list[Change], ex: Exchange, why: str, accepted_clause: str) -> Violation | None:
    if kind in ("leak", "refused"):
        fn = nothing_changed
    elif accepted_clause == ONLY_NAMED:
        fn = only_named_changed
    else:  # an update field the accepted updates did not name changed: they are not partial
        return _partial(changes, ex, why)
    try:
        fn(changes, ex, why)
    except Violation as violation:
        return violation
    return None


def _partial(changes: list[Change], ex: Exchange, why: str) -> Violation:
    from fpjs_conformance import checks

    violation = Violation(
        semantics.PARTIAL,
        "the fields the update did not name as they were: "
        + "; ".join(f"{c.where} {c.expected!r}"[:140] for c in changes[:6]),
        "read-back " + "; ".join(c.describe() for c in changes[:6]) + f" ({why})",
        ex,
    )
    violation.check = checks.stored_fields_match.__name__
    return violation


def _member_changes(profile: Profile, before: Any, after: Any, expected: dict[str, Any]):
    """(Change, the container member it is under or "") for every leaf that differs, outside the update
    fields, the members that change on their own and mirrors holding their field's value."""
    container = "".join(f"/{_escape(p)}" for p in profile.read_back_container)
    skip = [f"{container}/{_escape(f)}" for f in profile.fields] + list(profile.read_back_changes)
    mirrors = {}
    for pointer, name in profile.read_back_mirrors.items():
        k = profile.field_names[name]
        mirrors[pointer] = [_at(before, pointer), *([expected[k]] if k in expected else [])]
    old, new = _leaves(before), _leaves(after)
    for pointer in sorted(set(old) | set(new)):
        if any(pointer == s or pointer.startswith(s + "/") for s in skip):
            continue
        mirror = next((m for m in mirrors if pointer == m or pointer.startswith(m + "/")), None)
        if mirror is not None:
            now = _at(after, mirror)
            if any(same_json(now, ok) for ok in mirrors[mirror] if ok is not _ABSENT) or now is _ABSENT:
                continue
        a, b = old.get(pointer, _ABSENT), new.get(pointer, _ABSENT)
        if a is not _ABSENT and b is not _ABSENT and same_json(a, b):
            continue
        member = pointer[len(container) + 1 :].split("/", 1)[0] if pointer.startswith(container + "/") else ""
        change = Change(pointer, None if a is _ABSENT else a, None if b is _ABSENT else b, absent=b is _ABSENT)
        yield change, member


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _leaves(value: Any, pointer: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value by its JSON pointer (empty objects and arrays are leaves)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{pointer}/{_escape(str(k))}"))
        return out
    return {pointer or "/": value}


def _at(value: Any, pointer: str) -> Any:
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


@dataclass
class Reads:
    """A version's reads of the designated event: its view, the lag figures."""

    view: View = field(default_factory=View)
    lag: Lag = field(default_factory=Lag)
    waits: bool = True  # settle: off after a read that never settled (the target loses writes, it does not lag)
