"""`fpjs-conformance migrate HAR --to v4`: what a client's traffic of one API version meets under its successor.

The HAR is a run's `reports/traffic.har` or a proxy session's (a real client's traffic). Each recorded update
of the version the successor migrates from (`[migration] from` in its profile) is mapped to the successor
(`migration.map_request`: the method and path, the field names, the key in the successor's place, the body
otherwise byte for byte, all from the two profiles) and sent the way a replay sends (`replay_plan.plan`, `send`):
a run's options, the preflight of the designated event, every write of it journaled before it goes out and
restored at the end, pacing, the budget. Each answer is judged by the successor's clauses, then compared
with the recorded answer in meaning (`migration.server_change`: the status and the error role, not the code's
spelling; and the read-back of a case that compared one).

Where a request goes: the recorded designated event to the designated event (`--request-id`), the not-ready
one to `--not-ready-request-id`, ids the coverage table derives from the designated one move with it, literal
ids stay. An event the recorded version refused as past its window is read back first (a GET): one the
successor's window still holds stands for an event inside it (the designated event), one past it too goes to
`--expired-request-id`. A proxy's requests name the client's own events: one the recorded answer showed
updatable goes to the designated event, one it showed unknown stays only when the successor's target has no
such event; nothing else is ever written.

The report (`migrate.json`, `migrate.md`, `migrate.html`) lists, per kind, how many updates each change
touches and one example: what the client must change (`client`), what the same request now gets (`server`),
changes no profile documents (`unexpected`), and every recorded update not migrated, with why. Exit status as
a replay's (2, 1 a violation, 6, 7, 4, 9); an unexpected change alone exits 8 only with `--fail-on-change`.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from fpjs_conformance import (
    changes,
    clauses,
    commands,
    migration,
    replay,
    replay_plan,
    replay_report,
    reporting,
    table_run,
)
from fpjs_conformance import migrate_report as report
from fpjs_conformance import profile as profiles
from fpjs_conformance.model import READ, Events, Request
from fpjs_conformance.rules import semantics
from fpjs_conformance.runstate import Exit
from fpjs_conformance.table import Case

SOURCE_COPY = "migrate-source.har"
OPTIONS = tuple(o for o in replay.OPTIONS if o != "api_version")  # --to names the version
UNKNOWN_ROLES = frozenset({"unknown_event", "invalid_event_id", "odd_event_id"})  # the id names no event
SHOWN = 50  # example lines printed per side


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return commands.add_har_command(
        subparsers,
        "migrate",
        main,
        own=(("--to", {"required": True, "metavar": "VERSION", "help": "the version to migrate to (v4)"}),),
        har_help="a run's or a proxy session's traffic.har",
        suite_options=OPTIONS,
        fail_on=("--fail-on-change", "a change no profile documents fails the migration (exit 8)"),
        summary="map a HAR's updates to the next API version, send them, and name every change of behaviour",
        doc=__doc__,
    )


# -- mapping ----------------------------------------------------------------------------------------------
class ToSuccessor:
    """How migrate rebuilds a recorded update (`replay_plan.plan` asks): mapped to the successor, its event moved
    as the target's events say. Events whose state under the successor only the target can tell are noted
    in `pending` and settled by `resolve` once the target is prepared."""

    def __init__(self, entries: list[dict[str, Any]], run: Any, m: migration.Migration):
        self.m, self.run = m, run
        self.events = run.events(m.target.version)
        self.wrong_region = bool(run.options.wrong_region_api_key) or run.options.embedded
        self.recorded = replay_plan.recorded_events(entries, m.source.version)
        wrong = replay_plan.recorded_wrong_region(entries, m.source.version)
        self.ids = (
            {}
            if self.recorded is None
            else replay_plan.derived_ids(m.source, self.recorded, self.events, wrong_region=wrong)
        )
        self.table = (
            {}
            if self.recorded is None
            else {c.id: c for c in table_run.cases(m.source, self.recorded, wrong_region=wrong)}
        )
        self.sources: dict[int, Request] = {}  # id(entry) -> the recorded request, rebuilt
        self.pending: dict[int, tuple[str, str]] = {}  # id(entry) -> ("expired" | "literal", the recorded id)
        self.moved: set[int] = set()  # id(entry) of updates moved to the designated event by the windows
        self.stored_after = _read_back_outcomes(entries)

    def sent_under(self, recorded: str) -> tuple[str | None, str]:
        source, target = self.m.source.version, self.m.target.version
        if recorded == source:
            return target, ""
        if recorded == target:
            return None, f"sent under {target} already"
        return None, f"sent under {recorded}: {target} migrates from {source} only"

    def request(self, entry: dict[str, Any]) -> Request | str:
        meta = entry["_fpjs"]
        event = (meta.get("request") or {}).get("event") or {}
        role = event.get("role")
        events = Events(self.events.live, event.get("id") if role == "expired" else None, self.events.not_ready)
        request = replay_plan.rebuild(meta, self.m.source, events, self.ids, self.wrong_region)
        if isinstance(request, str):
            return request
        self.sources[id(entry)] = request
        if meta.get("kind") == "proxy" and role is None:
            role = self._infer(entry, request)
            if role == "not_ready":
                return f"a not-ready answer of {self.m.source.version} (transient: the client's retry is migrated)"
            if role == "live":
                request = replace(request, event_id=self.events.live)
        mapped = migration.map_request(self.m, request)
        if isinstance(mapped, str):
            return mapped
        if role in ("expired", "literal"):
            self.pending[id(entry)] = (role, request.event_id)
        return mapped

    def _infer(self, entry: dict[str, Any], request: Request) -> str:
        """The part a proxied request's event played, from the recorded answer: updatable (or refused before
        its event mattered), past the window, not ready, or no event at all."""
        ex = replay_report.recorded_exchange(replay_plan.Item(0, entry, request))
        if ex.error is None and ex.status == 200:
            return "live"
        roles = migration.roles_of(self.m.source, ex.status, ex.error_code())
        if migration.EXPIRED in roles:
            return "expired"
        if "not_ready" in roles:
            return "not_ready"
        return "literal" if roles & UNKNOWN_ROLES else "live"

    def known_case(self, recorded: str, case_id: str | None) -> Case | None:
        case = self.table.get(case_id or "")
        return case if case is not None and clauses.get(case.clause_id).applies_to(self.m.target.version) else None

    # -- once the target is prepared ----------------------------------------------------------------------
    def fold_proxy_cases(self, plan: replay_plan.Plan) -> None:
        """A proxied update accepted on the designated event is compared as a case: its read-back under the
        successor against what the proxy saw read back after it (`same` unless that read-back differed)."""
        for group in plan.groups:
            item = group.items[0]
            body = item.request.body.json_value
            if group.kind != "proxy" or len(group.items) != 1 or item.request.event_id != self.events.live:
                continue
            if not isinstance(body, dict) or not set(body) & set(self.m.target.fields):
                continue
            if replay_report.recorded_exchange(item).status != 200:
                continue
            group.compare = Case(f"proxy#{item.index}", semantics.STORED, (item.request,), "fold")
            item.read_back = self.stored_after.get(item.index, "same")
            plan.reads[group.version] = plan.reads.get(group.version, 0) + 1

    def resolve(self, plan: replay_plan.Plan, target: Any) -> None:
        """Settle the pending events by reading them back under the successor (a GET, never a write)."""
        seen: dict[str, Any] = {}
        for group in list(plan.groups):
            why = ""
            for item in group.items:
                pending = self.pending.get(id(item.entry))
                if pending is None:
                    continue
                role, event_id = pending
                if event_id not in seen:
                    seen[event_id] = target.read_back(event_id)
                got = seen[event_id]
                if role == "literal":
                    if got.stored is not None:
                        why = f"naming an event the {self.m.target.version} target has (not designated: not written)"
                    continue
                age = self._age_days(got.stored)
                window = self.m.target.update_window_days
                if age is not None and age < window:
                    item.request = replace(item.request, event_id=self.events.live)
                    self.moved.add(id(item.entry))
                elif self.events.expired:
                    item.request = replace(item.request, event_id=self.events.expired)
                else:
                    known = f"{age:.0f} days old" if age is not None else "of an age the target does not show"
                    why = f"naming an event past {self.m.source.version}'s window, {known}: pass --expired-request-id"
            if why:
                plan.groups.remove(group)
                plan.versions[group.version] -= len(group.items)
                plan.leave_out(why, len(group.items), group.items[0].index)
            elif group.compare is not None:
                count = len(group.compare.requests)
                group.compare = replace(group.compare, requests=tuple(i.request for i in group.items[:count]))

    def _age_days(self, stored: dict[str, Any] | None) -> float | None:
        stamp = (stored or {}).get(self.m.target.time_field)
        if not isinstance(stamp, int | float) or isinstance(stamp, bool):
            return None
        return (time.time() - stamp / 1000) / 86400


def _read_back_outcomes(entries: list[dict[str, Any]]) -> dict[int, str]:
    """Proxied updates -> what the proxy found reading their event back next (`differs` when the stored-field
    check failed there), for those it read back before another update of the event."""
    out, last = {}, {}
    for index, entry in enumerate(entries):
        meta = entry["_fpjs"]
        data = meta.get("request") or {}
        event_id = (data.get("event") or {}).get("id")
        if meta.get("kind") != "proxy" or event_id is None:
            continue
        if data.get("op") != READ:
            last[event_id] = index
            continue
        update = last.pop(event_id, None)
        if update is not None:
            failed = any(v.get("check") == "stored_fields_match" for v in meta.get("verdicts") or [])
            out[update] = "differs" if failed else "same"
    return out


# -- comparing --------------------------------------------------------------------------------------------
def _recorded_line(item: replay_plan.Item, request: Request) -> str:
    sent = item.entry.get("request") or {}
    url = sent.get("url", "")
    path = url.split("://", 1)[-1].partition("/")[2]
    head = f"{sent.get('method', '')} /{path} [{request.credentials.describe()}]"
    return f"{head} {request.body.describe(80)}"[:300]


def compare(m: migration.Migration, how: ToSuccessor, plan: replay_plan.Plan, entries: list[dict]) -> changes.Tally:
    """Every change, by kind: the client's, from the recorded requests and answers; the server's, from each
    recorded answer and its successor's answer in meaning, and the read-backs compared."""
    tally = changes.Tally()
    for group in plan.groups:
        for item in group.items:
            recorded = replay_report.recorded_exchange(item)
            source = how.sources[id(item.entry)]
            example = {
                "entry": item.index,
                "case": item.meta.get("case"),
                m.source.version: _recorded_line(item, source),
                m.target.version: (item.sent.describe_request() if item.sent else repr(item.request))[:300],
                "before": migration.meaning(m.source, recorded.status, recorded.error_code()).describe(),
            }
            found = migration.client_changes(m, source)
            found += migration.answer_changes(m, recorded.status, recorded.response_headers, recorded.error_code())
            for kind, what in found:
                tally.add(m.differences[kind].side, kind, what, True, example)
            if item.sent is None:
                if group.done:
                    why = f"not sent: an earlier update of its case was refused under {m.target.version}"
                    tally.add(migration.SERVER, migration.OUTCOME, why, False, example)
                continue
            before = migration.meaning(m.source, recorded.status, recorded.error_code())
            after = migration.meaning(m.target, item.sent.status, item.sent.error_code())
            example["after"] = after.describe()
            change = migration.server_change(m, before, after, moved_by_window=id(item.entry) in how.moved)
            if change is not None:
                kind, what, documented = change
                side = m.differences[kind].side if documented else migration.SERVER
                tally.add(side, kind, what, documented, example)
            if group.done and item.read_back is not None and item.new_read_back != item.read_back:
                what = f"read back {item.read_back} -> {item.new_read_back or 'not read back'}"
                tally.add(migration.SERVER, migration.READ_BACK, what, False, example)
    for index, entry in enumerate(entries):  # answers waited out (409, 429): what the client read in them
        meta = entry["_fpjs"]
        if meta.get("retried") and meta.get("version") == m.source.version:
            ex = replay_report.recorded_exchange(replay_plan.Item(index, entry, Request("")))
            example = {"entry": index, "case": meta.get("case"), "before": ex.received()[:160]}
            for kind, what in migration.answer_changes(m, ex.status, ex.response_headers, ex.error_code()):
                tally.add(m.differences[kind].side, kind, what, True, example)
    return tally


def model(args, m: migration.Migration, plan: replay_plan.Plan, tally: changes.Tally, run: Any, status: int) -> dict:
    """The report as data."""
    sent = sum(item.sent is not None for item in plan.items)
    return {
        "suite": reporting.SUITE,
        "har": str(args.har),
        "from": m.source.version,
        "to": m.target.version,
        "target": commands.target_name(run.options),
        "result": reporting.RESULTS.get(status, "failed"),
        "exit_status": int(status),
        "updates": {"migrated": len(plan.items), "sent": sent, "not_migrated": sum(plan.left_out.values())},
        "client": tally.kinds(side=migration.CLIENT, documented=True),
        "server": tally.kinds(side=migration.SERVER, documented=True),
        "unexpected": tally.kinds(documented=False),
        "not_migrated": [
            {"why": why, "count": n, "entry": plan.first_left_out.get(why)} for why, n in plan.left_out.items()
        ],
        "notes": replay_report.notes(plan)[len(plan.left_out) :],  # what is not migrated by design
        "violated": commands.violated(run),
        "differences": [d.as_data() for d in m.differences.values()],
        "guide": m.guide,
    }


# -- the command ------------------------------------------------------------------------------------------
def _successor(args: argparse.Namespace) -> migration.Migration | str:
    if args.to not in profiles.versions():
        return f"--to {args.to!r}: not a version of this suite ({', '.join(profiles.versions())})"
    try:
        return migration.load(args.to)
    except migration.MigrationError as exc:
        return str(exc)


def main(args: argparse.Namespace) -> int:
    """Migrate the HAR's updates to `--to` against the target the options name; the exit status."""
    commands.fill_from_environment(args)
    m = _successor(args)
    if isinstance(m, str):
        return commands.usage(m)
    try:
        entries = replay_plan.read_entries(args.har)
    except replay_plan.UsageError as exc:
        return commands.usage(str(exc))
    args.api_version = m.target.version
    run = commands.budgeted_run(args)
    if isinstance(run, int):
        return run
    opts, say = run.options, commands.printer(run)

    how = ToSuccessor(entries, run, m)
    plan = replay_plan.plan(entries, run, how)
    plan.phase = "migrate"
    if not plan.groups:
        for note in replay_report.notes(plan):
            sys.stderr.write(f"fpjs: {note}\n")
        return commands.usage(f"{args.har}: no {m.source.version} update to migrate to {m.target.version}")
    probes = len({event_id for _, event_id in how.pending.values()})
    how.fold_proxy_cases(plan)
    refused = replay_plan.refuse_undesignated(args.har, plan, run, lambda item: id(item.entry) in how.pending)
    if refused:
        return commands.usage(refused)
    replay.cap_exploration(run, plan, probes)
    own = (report.JSON_FILE, report.MD_FILE, report.HTML_FILE)
    try:
        copy = commands.prepare_folder(Path(args.har), opts.report_dir, own, SOURCE_COPY)
    except OSError as exc:
        return commands.usage(f"--report-dir {opts.report_dir}: cannot write there ({exc}); nothing was sent")
    if copy is not None:
        say(f"fpjs: the HAR migrated is where the reports go: kept as {copy}")
    say(f"fpjs: migrating {args.har} ({m.source.version}) to {m.target.version} against {commands.target_name(opts)}")
    replay.announce(run, plan, say, probes)
    complete = True
    try:
        complete = replay.send(run, plan, say, lambda ready: _prepare(how, plan, ready, m))
    finally:
        run.stop()
    tally = compare(m, how, plan, entries)
    unexpected = tally.kinds(documented=False)
    status = replay.exit_status(run, reporting.collect(run, Exit.OK), complete, unexpected, bool(args.fail_on_change))
    status = commands.write_reports(run, status)
    data = model(args, m, plan, tally, run, status)
    for line in report.lines(data, SHOWN):
        say(line)
    for line in commands.restore_lines(run):
        say(line)
    try:
        paths = report.write(opts.report_dir, data, run.secrets)
    except OSError as exc:
        sys.stderr.write(f"fpjs: could not write the reports to {opts.report_dir}: {exc}\n")
        paths = []
        status = Exit.REPORTS if status == Exit.OK else status
    for path in [*run.report_paths, *paths]:
        say(f"fpjs: report {path}")
    say(report.closing(data, status))
    for line in reporting.closing_lines(run):
        say(line)
    return status


def _prepare(how: ToSuccessor, plan: replay_plan.Plan, ready: dict[str, Any], m: migration.Migration) -> None:
    target = ready.get(m.target.version)
    if target is not None:
        how.resolve(plan, target)


def _standalone(argv: list[str] | None = None) -> int:
    """`python -m fpjs_conformance.migrate HAR --to v4 ...`: the subcommand on its own."""
    return commands.standalone("migrate", register, argv)


if __name__ == "__main__":
    sys.exit(_standalone())
