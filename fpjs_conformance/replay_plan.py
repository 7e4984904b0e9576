"""What a replay re-sends: a run's HAR read and checked against its provenance, each recorded update rebuilt
for the new target (its key put in at send time, its event moved to the new designated one, the ids the
coverage table derived from it moved with it), grouped by coverage case, and what is left out and why.
`fpjs-conformance migrate` plans with it too, rebuilding under the successor version instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fpjs_conformance import har, table_run, writegate
from fpjs_conformance import profile as profiles
from fpjs_conformance.model import NEAR_MISSES, READ, UPDATE, Events, Exchange, Request, printable
from fpjs_conformance.replay_report import READ_BACK_CHECKS
from fpjs_conformance.table import Case

REPLAYED = ("coverage", "random", "replay", "proxy", "migrate")  # why an entry was sent: these are re-sent
NOT_REPLAYED = ("preflight", "read-back", "restore")  # state, and the run's own phases
KEY_KINDS = ("valid", "wrong_region", "near", "padded", "literal", "empty")
ROLE_OPTIONS = {
    "expired": "--expired-request-id",
    "not_ready": "--not-ready-request-id",
    "foreign": "--foreign-request-id",
}


@dataclass
class Item:
    """One recorded update to re-send, and what came of it."""

    index: int  # the entry's position among the HAR's suite entries (log.entries of a HAR the suite wrote)
    entry: dict[str, Any]
    request: Request  # rebuilt for the new target
    read_back: str | None = None  # the recorded read-back outcome this entry carries (the case's last update)
    sent: Exchange | None = None
    new_read_back: str | None = None
    read_back_detail: list[str] = field(default_factory=list)  # what differed in the replayed read-back

    @property
    def meta(self) -> dict[str, Any]:
        return self.entry["_fpjs"]


@dataclass
class Group:
    """Entries sent together: one coverage case (its updates, and whether its read-back was compared), or
    one random example."""

    version: str
    case: str | None
    kind: str
    items: list[Item] = field(default_factory=list)
    compare: Case | None = None  # replayed as this case (its read-back compared), when the run compared it
    done: bool = False  # sent to the end (an unsent item of a done group is a difference)
    skipped: bool = False  # its version could not be judged: left out


@dataclass
class Plan:
    groups: list[Group] = field(default_factory=list)
    left_out: Counter = field(default_factory=Counter)  # why -> recorded updates left out
    first_left_out: dict[str, int] = field(default_factory=dict)  # why -> the first entry left out for it
    not_replayed: Counter = field(default_factory=Counter)  # what -> entries not re-sent by design
    versions: dict[str, int] = field(default_factory=dict)  # version -> updates to re-send
    recorded: int = 0  # recorded updates considered: re-sent, left out, or not sent as their case stopped
    reads: dict[str, int] = field(default_factory=dict)  # version -> read-backs the replay adds
    phase: str = "replay"  # the kind its requests are recorded under

    def leave_out(self, why: str, count: int, index: int) -> None:
        self.left_out[why] += count
        self.first_left_out.setdefault(why, index)

    @property
    def items(self) -> list[Item]:
        return [item for group in self.groups for item in group.items]


class UsageError(ValueError):
    """A replay that cannot start: one `ERROR:` line, exit 4, nothing sent."""


def read_entries(path: str) -> list[dict[str, Any]]:
    """The suite's entries of the HAR, checked against the provenance the suite wrote in it; UsageError when
    it is not a HAR with any, has no provenance, or its entries name designated events its provenance does
    not (an edited or crafted HAR)."""
    try:
        found, entries = har.read_log(Path(path))
    except ValueError as exc:
        raise UsageError(f"{exc}; nothing was sent") from None
    if not entries:
        raise UsageError(f"{path} holds no entries of this suite (`_fpjs`): not a run's traffic.har; nothing was sent")
    if found is None:
        raise UsageError(
            f"{path} carries no provenance (the target, events and key it was recorded with): not written by "
            "this suite since 0.4, or edited; nothing was sent"
        )
    for index, entry in enumerate(entries):
        meta = entry["_fpjs"]
        event = (meta.get("request") or {}).get("event") or {}
        recorded = (found.get(meta.get("version")) or {}).get("events") or {}
        role = event.get("role")
        if role is not None and recorded.get(role) != event.get("id"):
            raise UsageError(
                f"{path}: entry {index} names {printable(str(event.get('id')))!r} as the {role} event, but the HAR "
                f"was recorded with {printable(str(recorded.get(role)))!r}: edited or crafted; nothing was sent"
            )
    return entries


def refuse_undesignated(har_path: str, replay: Plan, run: Any, settled_later=lambda item: False) -> str | None:
    """Why the plan may not be sent, when it would write events no one designated (the write gate would
    refuse them one by one mid-run: they are refused before anything is sent). `settled_later(item)`: an
    item whose event is settled once the target is prepared (a migration reads it back first)."""
    found = set()
    for group in replay.groups:
        profile, events = profiles.load(group.version), run.events(group.version)
        for item in group.items:
            if settled_later(item):
                continue
            if writegate.classify(profile, events, item.request) == writegate.UNDESIGNATED:
                found.add(item.request.event_id)
    if not found:
        return None
    shown = ", ".join(repr(printable(i)) for i in sorted(found)[:5])
    return (
        f"{har_path}: its updates name events no one designated ({shown}): the suite writes only to the "
        "designated events and to ids that name no event; nothing was sent"
    )


def recorded_versions(entries: list[dict[str, Any]]) -> list[str]:
    """The API versions the HAR's entries were sent under, in the suite's order."""
    seen = {e["_fpjs"].get("version") for e in entries}
    return [v for v in profiles.versions() if v in seen]


def recorded_events(entries: list[dict[str, Any]], version: str) -> Events | None:
    """The events the recorded run designated under `version` (from the roles its requests name)."""
    ids: dict[str, str] = {}
    for e in entries:
        meta = e["_fpjs"]
        event = (meta.get("request") or {}).get("event") or {}
        if meta.get("version") == version and event.get("role") and event.get("id"):
            ids.setdefault(event["role"], event["id"])
    return Events(ids["live"], ids.get("expired"), ids.get("not_ready")) if "live" in ids else None


def derived_ids(profile: profiles.Profile, before: Events, after: Events, *, wrong_region: bool) -> dict[str, str]:
    """Ids the coverage table derives from the designated events (near misses of the designated id):
    recorded id -> the same case's id for the new events. Constant ids are the same in both tables."""
    old = {c.id: c for c in table_run.cases(profile, before, wrong_region=wrong_region)}
    new = {c.id: c for c in table_run.cases(profile, after, wrong_region=wrong_region)}
    designated = {before.live, before.expired, before.not_ready}
    out = {}
    for case_id, case in old.items():
        other = new.get(case_id)
        if other is None or len(other.requests) != len(case.requests):
            continue
        for was, now in zip(case.requests, other.requests, strict=True):
            if was.event_id != now.event_id and was.event_id not in designated:
                out.setdefault(was.event_id, now.event_id)
    return out


def rebuild(
    meta: dict[str, Any], profile: profiles.Profile, events: Events, ids: dict[str, str], wrong_region: bool
) -> Request | str:
    """The recorded request for the new target, or why it cannot be sent there."""
    data = meta.get("request")
    if not isinstance(data, dict) or not isinstance(data.get("event"), dict):
        return "entries without a request in symbolic form"
    role = data["event"].get("role")
    if role in ROLE_OPTIONS and getattr(events, role) is None:
        return f"naming the {role.replace('_', '-')} event: pass {ROLE_OPTIONS[role]} to replay them"
    try:
        request = Request.from_record(data, events)
        for cred in request.credentials.items:
            profile.place(cred.place)
            if cred.key.kind not in KEY_KINDS or (cred.key.kind == "near" and cred.key.variant not in NEAR_MISSES):
                raise ValueError(f"unknown key {cred.key}")
            if cred.key.kind == "wrong_region" and not wrong_region:
                return "with another region's key: pass --wrong-region-api-key to replay them"
    except (KeyError, TypeError, ValueError, StopIteration, AttributeError):  # binascii.Error is a ValueError
        return "whose request this suite cannot rebuild"
    if role is None and request.event_id in ids:
        request = replace(request, event_id=ids[request.event_id])
    return request


def recorded_wrong_region(entries: list[dict[str, Any]], version: str) -> bool:
    """The recorded run sent another region's key under `version` (its table had those cases)."""
    return any(
        c.get("key", {}).get("kind") == "wrong_region"
        for e in entries
        if e["_fpjs"].get("version") == version
        for c in (e["_fpjs"].get("request") or {}).get("credentials", [])
    )


class SameVersion:
    """How a replay rebuilds a recorded update: under the version it was sent under, for the new target's key
    and events (`rebuild`). `fpjs-conformance migrate` rebuilds under another version instead."""

    def __init__(self, entries: list[dict[str, Any]], run: Any):
        self.run = run
        self.wrong_region = bool(run.options.wrong_region_api_key) or run.options.embedded
        self.ids: dict[str, dict[str, str]] = {}
        for version in run.options.versions:
            before = recorded_events(entries, version)
            wrong = recorded_wrong_region(entries, version)
            self.ids[version] = (
                {}
                if before is None
                else derived_ids(profiles.load(version), before, run.events(version), wrong_region=wrong)
            )

    def sent_under(self, recorded: str) -> tuple[str | None, str]:
        """(the version a recorded update is sent under, or None and why it is left out)."""
        if recorded not in profiles.versions():
            return None, f"of an API version this suite does not know ({recorded})"
        if recorded not in self.run.options.versions:
            return None, f"sent under {recorded}, which --api-version leaves out"
        return recorded, ""

    def request(self, entry: dict[str, Any]) -> Request | str:
        """The recorded update for the new target, or why it cannot be sent there."""
        version = entry["_fpjs"]["version"]
        profile, events = profiles.load(version), self.run.events(version)
        return rebuild(entry["_fpjs"], profile, events, self.ids.get(version, {}), self.wrong_region)

    def known_case(self, recorded: str, case_id: str | None) -> Case | None:
        """The recorded case as this suite's table has it (its clause, its kind of read-back comparison)."""
        return {c.id: c for c in self.run.table(recorded)}.get(case_id or "")


def plan(entries: list[dict[str, Any]], run: Any, how: Any = None) -> Plan:
    """What to re-send, in order, grouped by coverage case; what is left out and why. `how` rebuilds each
    recorded update (`SameVersion` by default)."""
    out = Plan()
    how = how or SameVersion(entries, run)
    raw: list[tuple[tuple, list[tuple[int, dict]]]] = []
    for index, entry in enumerate(entries):
        meta = entry["_fpjs"]
        key = (meta.get("version"), meta.get("case"))
        if meta.get("case") is not None and raw and raw[-1][0] == key:
            raw[-1][1].append((index, entry))
        else:
            raw.append((key, [(index, entry)]))
    for (version, case), members in raw:
        _plan_group(out, version, case, members, how)
    return out


def _plan_group(out: Plan, version: str, case: str | None, members: list[tuple[int, dict]], how: Any) -> None:
    updates, first_read = [], None
    for position, (index, entry) in enumerate(members):
        meta = entry["_fpjs"]
        kind, op = meta.get("kind"), (meta.get("request") or {}).get("op", UPDATE)
        if kind in NOT_REPLAYED or op == READ:
            out.not_replayed[kind if kind in NOT_REPLAYED else "read-back"] += 1
            if kind == "read-back" and first_read is None:
                first_read = position
        elif meta.get("retried"):
            out.not_replayed["earlier try"] += 1  # the transport waits out 409s and 429s itself
        elif kind not in REPLAYED:
            out.not_replayed[f"kind {kind!r}"] += 1
        else:
            updates.append((position, index, entry))
    if not updates:
        return
    out.recorded += len(updates)
    under, why = how.sent_under(version)
    if under is None:
        out.leave_out(why, len(updates), updates[0][1])
        return
    group = Group(under, case, updates[0][2]["_fpjs"]["kind"])
    for _position, index, entry in updates:
        request = how.request(entry)
        if isinstance(request, str):  # a case is sent whole or not at all
            out.leave_out(request, len(updates), updates[0][1])
            return
        group.items.append(Item(index, entry, request))
    if first_read is not None:
        _compared(group, members, updates, first_read, how.known_case(version, case))
    out.groups.append(group)
    out.versions[under] = out.versions.get(under, 0) + len(group.items)
    reads = {None: 0, "fold": 1, "numbers": 1, "foreign": 1, "repeat": 2}[
        group.compare.compare if group.compare else None
    ]
    out.reads[under] = out.reads.get(under, 0) + reads


def _compared(group: Group, members: list, updates: list, first_read: int, known: Case | None) -> None:
    """The recorded case compared its read-back: replay it as that case (its requests as recorded, its
    clause and kind of comparison from this suite's table: `known`), and note what the recorded read-back
    found on the case's last update before it."""
    before = [u for u in updates if u[0] < first_read]
    after = [u for u in updates if u[0] > first_read]
    if not before or known is None or known.compare is None:
        return  # a case this suite does not know: its updates are replayed, its read-back is not
    if any(entry["response"].get("status") != 200 for _, _, entry in before):
        return  # the read after it compared other cases' writes (one read for several): not this case's
    requests = tuple(item.request for item in group.items[: len(before)])
    repeated = [item.request.fingerprint() for item in group.items[len(before) :]]
    if known.compare == "fold" and after:
        return
    if known.compare == "repeat" and (len(before) != 1 or repeated not in ([], [requests[0].fingerprint()])):
        return
    failed = False
    for position, (_index, entry) in enumerate(members):
        for verdict in entry["_fpjs"].get("verdicts") or []:
            if verdict.get("verdict") == "failed" and (
                position > first_read or verdict.get("check") in READ_BACK_CHECKS
            ):
                failed = True
    group.items[len(before) - 1].read_back = "differs" if failed else "same"
    group.compare = Case(known.id, known.clause_id, requests, known.compare)
