"""`fpjs-conformance replay HAR`: re-send a run's recorded updates to another target, judge every answer
with the suite's checks, and list how the answers differ from the recorded ones.

The HAR is a run's `reports/traffic.har`: every entry carries the request in symbolic form (`_fpjs`),
so a replay rebuilds it for the new target: the key goes in at send time (the transport's), an event
the run designated by role goes to the new designated event (`--request-id`; the expired and
not-ready events to `--expired-request-id` and `--not-ready-request-id`, and without them those
entries are left out, with a note), ids the coverage table derived from the designated id (its near
misses) move with it, and literal ids (impossible, unknown, odd ids) stay as they are.

Only updates are replayed: read-backs are state, the preflight and the restore are the run's own.
A coverage case whose read-back the run compared is replayed as that case (`Target.run_case`), so the
new read-back outcome is compared too. Safety is a run's: the same options and checks, the preflight,
the restore, pacing, the budget and the run timeout.

The difference table speaks the behaviour snapshot's vocabulary (`behaviour.observe` on both sides:
status, code, media type, header names, read-back outcome): `reports/replay.json` (records) and
`reports/replay.md` (a table), beside the usual reports of the replay's own run (its traffic too).

Exit status: 2 interrupted, 1 a replayed answer violated a clause (or the target stopped answering, or
the run timed out), 6 a setup problem, 7 the budget left recorded updates unsent, 8 a difference with
`--fail-on-diff`, 4 a usage error, 9 the reports could not be written, else 0. Differences alone do
not change the exit status without `--fail-on-diff`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fpjs_conformance import behaviour, commands, coverage, har, redact, reporting
from fpjs_conformance import profile as profiles
from fpjs_conformance.model import NEAR_MISSES, READ, UPDATE, Events, Exchange, Request
from fpjs_conformance.preflight import least_requests, most_requests
from fpjs_conformance.replay_report import (
    JSON_FILE,
    MD_FILE,
    READ_BACK_CHECKS,
    counts_text,
    diff_line,
    differences,
    read_back_detail,
    replay_counts,
    write_replay,
)
from fpjs_conformance.replay_report import notes as notes_of
from fpjs_conformance.runstate import Exit
from fpjs_conformance.table import Case
from fpjs_conformance.target import SetupProblem, TargetUnreachable
from fpjs_conformance.transport import BudgetSpent, RunTimedOut, split_userinfo

SOURCE_COPY = "replay-source.har"  # the HAR replayed, when it sat where this replay's reports go
REPLAYED = ("coverage", "random", "replay", "proxy")  # why an entry was sent: these are re-sent
NOT_REPLAYED = ("preflight", "read-back", "restore")  # state, and the run's own phases
SHOWN = 50  # difference lines printed; the rest are in the reports
KEY_KINDS = ("valid", "wrong_region", "near", "literal", "empty")
OPTIONS = (
    "base_url",
    "region",
    "api_version",
    "api_key",
    "request_id",
    "expired_request_id",
    "not_ready_request_id",
    "wrong_region_api_key",
    "report_dir",
    "rate_limit",
    "request_timeout",
    "run_timeout",
    "max_requests",
    "ca_bundle",
    "no_restore",
)
ROLE_OPTIONS = {"expired": "--expired-request-id", "not_ready": "--not-ready-request-id"}


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The `replay` subcommand: a HAR path and the suite's options."""
    parser = subparsers.add_parser(
        "replay",
        help="re-send a run's recorded updates (reports/traffic.har) to another target, judge them, diff them",
        description=__doc__.split("\n\n", 1)[0].replace("`", ""),
    )
    parser.add_argument("har", metavar="HAR", help="a run's reports/traffic.har")
    commands.add_suite_options(parser, OPTIONS)
    parser.add_argument(
        "--fail-on-diff",
        dest="fail_on_diff",
        action="store_true",
        help="a difference from the recorded answers fails the replay (exit 8)",
    )
    parser.set_defaults(command_main=main)
    return parser


# -- the plan -------------------------------------------------------------------------------------
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
    not_replayed: Counter = field(default_factory=Counter)  # what -> entries not re-sent by design
    versions: dict[str, int] = field(default_factory=dict)  # version -> updates to re-send
    recorded: int = 0  # recorded updates considered: re-sent, left out, or not sent as their case stopped
    reads: dict[str, int] = field(default_factory=dict)  # version -> read-backs the replay adds

    @property
    def items(self) -> list[Item]:
        return [item for group in self.groups for item in group.items]


class UsageError(ValueError):
    """A replay that cannot start: one `ERROR:` line, exit 4, nothing sent."""


def read_entries(path: str) -> list[dict[str, Any]]:
    """The suite's entries of the HAR; UsageError when it is not a HAR with any."""
    try:
        entries = har.read(Path(path))
    except ValueError as exc:
        raise UsageError(f"{exc}; nothing was sent") from None
    if not entries:
        raise UsageError(f"{path} holds no entries of this suite (`_fpjs`): not a run's traffic.har; nothing was sent")
    return entries


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
    old = {c.id: c for c in coverage.cases(profile, before, wrong_region=wrong_region)}
    new = {c.id: c for c in coverage.cases(profile, after, wrong_region=wrong_region)}
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


def plan(entries: list[dict[str, Any]], run: Any) -> Plan:
    """What to re-send, in order, grouped by coverage case; what is left out and why."""
    out = Plan()
    versions = run.options.versions
    wrong_region = bool(run.options.wrong_region_api_key) or run.options.embedded
    ids: dict[str, dict[str, str]] = {}
    for version in versions:
        before = recorded_events(entries, version)
        recorded_wrong_region = any(
            c.get("key", {}).get("kind") == "wrong_region"
            for e in entries
            if e["_fpjs"].get("version") == version
            for c in (e["_fpjs"].get("request") or {}).get("credentials", [])
        )
        ids[version] = (
            {}
            if before is None
            else derived_ids(profiles.load(version), before, run.events(version), wrong_region=recorded_wrong_region)
        )
    raw: list[tuple[tuple, list[tuple[int, dict]]]] = []
    for index, entry in enumerate(entries):
        meta = entry["_fpjs"]
        key = (meta.get("version"), meta.get("case"))
        if meta.get("case") is not None and raw and raw[-1][0] == key:
            raw[-1][1].append((index, entry))
        else:
            raw.append((key, [(index, entry)]))
    for (version, case), members in raw:
        _plan_group(out, version, case, members, run, ids.get(version, {}), wrong_region)
    return out


def _plan_group(
    out: Plan,
    version: str,
    case: str | None,
    members: list[tuple[int, dict]],
    run: Any,
    ids: dict[str, str],
    wrong_region: bool,
) -> None:
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
    if version not in profiles.versions():
        out.left_out[f"of an API version this suite does not know ({version})"] += len(updates)
        return
    if version not in run.options.versions:
        out.left_out[f"sent under {version}, which --api-version leaves out"] += len(updates)
        return
    profile, events = profiles.load(version), run.events(version)
    group = Group(version, case, updates[0][2]["_fpjs"]["kind"])
    for _position, index, entry in updates:
        request = rebuild(entry["_fpjs"], profile, events, ids, wrong_region)
        if isinstance(request, str):  # a case is sent whole or not at all
            out.left_out[request] += len(updates)
            return
        group.items.append(Item(index, entry, request))
    if first_read is not None:
        _compared(group, members, updates, first_read, run)
    out.groups.append(group)
    out.versions[version] = out.versions.get(version, 0) + len(group.items)
    reads = {None: 0, "fold": 1, "repeat": 2}[group.compare.compare if group.compare else None]
    out.reads[version] = out.reads.get(version, 0) + reads


def _compared(group: Group, members: list, updates: list, first_read: int, run: Any) -> None:
    """The recorded case compared its read-back: replay it as that case (its requests as recorded, its
    clause and kind of comparison from this suite's table), and note what the recorded read-back found on
    the case's last update before it."""
    before = [u for u in updates if u[0] < first_read]
    after = [u for u in updates if u[0] > first_read]
    known = {c.id: c for c in run.table(group.version)}.get(group.case or "")
    if not before or known is None or known.compare is None:
        return  # a case this suite does not know: its updates are replayed, its read-back is not
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


# -- sending ----------------------------------------------------------------------------------------
def send(run: Any, replay: Plan, say) -> bool:
    """Prepare every version (preflight), then re-send every planned group in order; False when the budget
    cut the replay short."""
    budget_cut = False
    try:
        ready: dict[str, Any] = {}
        for version in run.options.versions:
            try:
                ready[version] = run.target(version)
            except SetupProblem:
                continue
        while run.notices:
            say(run.notices.pop(0))
        for group in replay.groups:
            if group.version not in ready or group.version in run.version_stops:
                status = run.version_stops.get(group.version, {}).get("status", "stopped")
                replay.left_out[f"sent under {group.version}, which was not judged ({status})"] += len(group.items)
                group.skipped = True
                continue
            _send_group(run, ready[group.version], group)
    except BudgetSpent:
        budget_cut = True
    except TargetUnreachable as exc:
        run.stop_with(str(exc), Exit.VIOLATED)
    except RunTimedOut as exc:
        run.timed_out = True
        run.stop_with(f"{exc} (--run-timeout={run.options.run_timeout:g}s)", Exit.VIOLATED)
    except KeyboardInterrupt:
        run.stop_with(run.stop_request or "interrupted (Ctrl-C)", Exit.INTERRUPTED)
    unsent = sum(1 for g in replay.groups if not (g.done or g.skipped) for item in g.items if item.sent is None)
    if unsent:
        why = "the request budget (--max-requests) was spent" if budget_cut else "the replay stopped before them"
        replay.left_out[f"not sent: {why}"] += unsent
    return not budget_cut


def _send_group(run: Any, target: Any, group: Group) -> None:
    target.phase = "replay"
    if group.compare is not None and target.reads_back:
        mark = len(run.traffic.records)
        found: list = []
        try:
            found = target.run_case(group.compare)
        finally:
            sent = [
                r.exchange
                for r in run.traffic.records[mark:]
                if r.kind == "replay" and not r.retried and r.exchange.request.op != READ
            ]
            for item, ex in zip(group.items, sent, strict=False):
                item.sent = ex
        carrier = next(item for item in group.items if item.read_back is not None)
        carrier.new_read_back = target.behaviour.get(group.compare.id, {}).get("read_back")
        carrier.read_back_detail = read_back_detail(found)
    else:
        target.case_id = group.case
        try:
            for item in group.items:
                item.sent = target.submit(item.request, fresh=True).exchange
        finally:
            target.case_id = None
        if group.case is not None:  # the replay's own behaviour snapshot, by case
            target.behaviour[group.case] = behaviour.observe(group.items[-1].sent, None)
    group.done = True


def exit_status(run: Any, model: dict[str, Any], complete: bool, rows: list, fail_on_diff: bool) -> int:
    """Worst first, as a run's: interrupted 2; a violation, a target that stopped answering or the run
    timeout 1; a setup problem 6; the budget left updates unsent 7; a difference with --fail-on-diff 8."""
    failed = any(c["status"] == "failed" for r in model["clauses"] for c in r["versions"].values())
    if run.stop_request or run.stop_code == Exit.INTERRUPTED:
        return Exit.INTERRUPTED
    if failed or run.timed_out or run.stop_code == Exit.VIOLATED:
        return Exit.VIOLATED
    if run.stop_code == Exit.SETUP:
        return Exit.SETUP
    if not complete:
        return Exit.INCOMPLETE
    if fail_on_diff and rows:
        return Exit.DRIFT
    return Exit.OK


# -- the command ------------------------------------------------------------------------------------
def _usage(line: str) -> int:
    sys.stderr.write(f"ERROR: {line}\n")
    return Exit.USAGE


def _keep_source(source: Path, report_dir: Path) -> Path | None:
    """The HAR replayed, copied aside when this replay's reports would replace it; the copy's path."""
    names = (*reporting.FILES, JSON_FILE, MD_FILE)
    if source.resolve().parent != report_dir.resolve() or source.name not in names:
        return None
    copy = report_dir / SOURCE_COPY
    shutil.copyfile(source, copy)
    return copy


def main(args: argparse.Namespace) -> int:
    """Replay the HAR's updates against the target the options name; the exit status."""
    commands.fill_from_environment(args)
    try:
        entries = read_entries(args.har)
    except UsageError as exc:
        return _usage(str(exc))
    versions = recorded_versions(entries)
    if not versions:
        return _usage(f"{args.har}: its entries name no API version this suite knows; nothing was sent")
    if not getattr(args, "api_version", None):
        args.api_version = ",".join(versions)
    opts = commands.parse_options(args)
    least = least_requests(opts.versions, opts.no_restore)
    if opts.max_requests is not None and opts.max_requests < least:
        return _usage(
            f"--max-requests {opts.max_requests} is too small: the preflight and the restore's reserve alone may "
            f"take {least} (for {', '.join(opts.versions)}); no request was sent"
        )
    run = commands.new_run(opts)

    def say(line: str) -> None:
        print(redact.scrub(line, run.secrets), flush=True)

    replay = plan(entries, run)
    if not replay.groups:
        for note in notes_of(replay):
            sys.stderr.write(f"fpjs: {note}\n")
        return _usage(f"{args.har}: no recorded update to replay under {', '.join(opts.versions)}; nothing was sent")
    # The exploration cap of a run is not a replay's: the recorded traffic is (with every retry); --max-requests
    # stays the hard cap.
    per_version = max(replay.versions.get(v, 0) + replay.reads.get(v, 0) for v in opts.versions)
    run.exploration = commands.exploration(
        6 * per_version + max(most_requests(profiles.load(v)) for v in opts.versions)
    )
    try:
        copy = _keep_source(Path(args.har), opts.report_dir)
        reporting.write_placeholder(opts.report_dir)
        for name in (JSON_FILE, MD_FILE):
            (opts.report_dir / name).unlink(missing_ok=True)
    except OSError as exc:
        return _usage(f"--report-dir {opts.report_dir}: cannot write there ({exc}); nothing was sent")
    if copy is not None:
        say(f"fpjs: the HAR replayed is where this replay's reports go: kept as {copy}")
    target = (
        f"bundled reference server ({', '.join(opts.versions)})"
        if opts.embedded
        else ", ".join(f"{split_userinfo(u)[0]} ({v})" for v, u in opts.base_urls.items())
    )
    say(f"fpjs: replaying {args.har} against {target}")
    for version in opts.versions:
        updates, reads = replay.versions.get(version, 0), replay.reads.get(version, 0)
        most = updates + reads + most_requests(profiles.load(version))
        took = ""
        if opts.rate_limit:
            took = f" at {opts.rate_limit:g}/s: about {round(most / opts.rate_limit)} s"
        say(
            f"fpjs [{version}]: at most {most} requests ({updates} recorded updates, {reads} read-backs, "
            f"the preflight; then the restore){took}"
        )
    complete = True
    try:
        complete = send(run, replay, say)
    finally:
        run.stop()
    rows = differences(replay)
    notes = notes_of(replay)
    for row in rows[:SHOWN]:
        say(diff_line(row))
    if len(rows) > SHOWN:
        say(f"fpjs: ... and {len(rows) - SHOWN} more differences (all in {opts.report_dir / MD_FILE})")
    for note in notes:
        say(f"fpjs: {note}")
    for version, restore in run.restores.items():
        why = f" ({restore['why']})" if restore.get("why") else ""
        say(f"fpjs [{version}]: designated event: {restore['status']}{why}")
    status = exit_status(run, reporting.collect(run, Exit.OK), complete, rows, bool(args.fail_on_diff))
    counts = replay_counts(replay)
    status = commands.write_reports(run, status, extra={"replay": counts})
    answers = len({r["entry"] for r in rows})
    violated = sorted({f"{f['version']}::{f['clause']}" for t in run.targets.values() for f in t.ledger.failures})
    head = [
        f"Replay of `{args.har}` against {target}.",
        f"{counts_text(counts)}; {len(rows)} difference(s) in {answers} answer(s).",
        f"Clauses violated by the replayed answers: {', '.join(violated) or 'none'}.",
    ]
    try:
        paths = write_replay(opts.report_dir, rows, head, notes, run.secrets)
    except OSError as exc:
        sys.stderr.write(f"fpjs: could not write the reports to {opts.report_dir}: {exc}\n")
        paths = []
        status = Exit.REPORTS if status == Exit.OK else status
    written = list(dict.fromkeys([*run.report_paths, *paths]))  # each once
    if written:
        say(f"fpjs: reports in {opts.report_dir}: {', '.join(p.name for p in written)}")
    say(
        f"fpjs: replay: {counts_text(counts)}, {len(rows)} difference(s) in {answers} answer(s), "
        f"{len(violated)} clause(s) violated{': ' + ', '.join(violated) if violated else ''}; "
        f"result {reporting.RESULTS.get(status, 'failed')} (exit {status})"
    )
    for line in reporting.closing_lines(run):
        say(line)
    return status


def _standalone(argv: list[str] | None = None) -> int:
    """`python -m fpjs_conformance.replay HAR ...`: the subcommand on its own."""
    parser = argparse.ArgumentParser(prog="fpjs-conformance")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["replay", *(sys.argv[1:] if argv is None else argv)])
    return args.command_main(args)


if __name__ == "__main__":
    sys.exit(_standalone())
