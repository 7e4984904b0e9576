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
import sys
from pathlib import Path
from typing import Any

from fpjs_conformance import behaviour, commands, replay_report, reporting
from fpjs_conformance import profile as profiles
from fpjs_conformance.limits import BudgetSpent
from fpjs_conformance.model import READ
from fpjs_conformance.preflight import most_requests
from fpjs_conformance.replay_plan import (
    Group,
    Plan,
    UsageError,
    plan,
    read_entries,
    recorded_versions,
    refuse_undesignated,
)
from fpjs_conformance.replay_report import (
    JSON_FILE,
    MD_FILE,
    counts_text,
    diff_line,
    differences,
    notes,
    read_back_detail,
    replay_counts,
)
from fpjs_conformance.runstate import Exit
from fpjs_conformance.target import SetupProblem, TargetUnreachable
from fpjs_conformance.transport import RunTimedOut

SOURCE_COPY = "replay-source.har"  # the HAR replayed, when it sat where this replay's reports go
SHOWN = 50  # difference lines printed; the rest are in the reports
OPTIONS = (
    "base_url",
    "region",
    "api_version",
    "api_key",
    "request_id",
    "expired_request_id",
    "not_ready_request_id",
    "wrong_region_api_key",
    "foreign_request_id",
    "foreign_api_key",
    "report_dir",
    "rate_limit",
    "request_timeout",
    "run_timeout",
    "max_requests",
    "ca_bundle",
    "no_restore",
)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The `replay` subcommand: a HAR path and the suite's options."""
    return commands.add_har_command(
        subparsers,
        "replay",
        main,
        har_help="a run's reports/traffic.har",
        suite_options=OPTIONS,
        fail_on=("--fail-on-diff", "a difference from the recorded answers fails the replay (exit 8)"),
        summary="re-send a run's recorded updates (reports/traffic.har) to another target, judge them, diff them",
        doc=__doc__,
    )


# -- sending ----------------------------------------------------------------------------------------
def send(run: Any, replay: Plan, say, prepare=None) -> bool:
    """Prepare every version (preflight; then `prepare(ready targets)`, which may still change the plan), then
    re-send every planned group in order; False when the budget cut the replay short."""
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
        if prepare is not None:
            prepare(ready)
        for group in replay.groups:
            if group.version not in ready or group.version in run.version_stops:
                status = run.version_stops.get(group.version, {}).get("status", "stopped")
                replay.left_out[f"sent under {group.version}, which was not judged ({status})"] += len(group.items)
                group.skipped = True
                continue
            _send_group(run, ready[group.version], group, replay.phase)
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


def _send_group(run: Any, target: Any, group: Group, phase: str) -> None:
    target.phase = phase
    if group.compare is not None and target.reads_back:
        mark = len(run.traffic.records)
        found: list = []
        try:
            found = target.run_case(group.compare)
        finally:
            sent = [
                r.exchange
                for r in run.traffic.records[mark:]
                if r.kind == phase and not r.retried and r.exchange.request.op != READ
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
    timeout 1; the restore did not finish 10; a setup problem 6; the budget left updates unsent 7; a
    difference with --fail-on-diff 8."""
    failed = any(c["status"] == "failed" for r in model["clauses"] for c in r["versions"].values())
    if run.stop_request or run.stop_code == Exit.INTERRUPTED:
        return Exit.INTERRUPTED
    if failed or run.timed_out or run.stop_code == Exit.VIOLATED:
        return Exit.VIOLATED
    if run.unrestored:
        return Exit.NOT_RESTORED
    if run.stop_code == Exit.SETUP:
        return Exit.SETUP
    if not complete:
        return Exit.INCOMPLETE
    if fail_on_diff and rows:
        return Exit.DRIFT
    return Exit.OK


# -- the command (its steps shared with `fpjs-conformance migrate`) -----------------------------------------
def cap_exploration(run: Any, replay: Plan, extra: int = 0) -> None:
    """The exploration cap of a run is not a replay's: the recorded traffic is (with every retry, and `extra`
    requests of the command's own); --max-requests stays the hard cap."""
    versions = run.options.versions
    per_version = max(replay.versions.get(v, 0) + replay.reads.get(v, 0) for v in versions) + extra
    run.exploration = commands.exploration(6 * per_version + max(most_requests(profiles.load(v)) for v in versions))


def announce(run: Any, replay: Plan, say, extra_reads: int = 0) -> None:
    """Per version, at most how many requests go out (and how long that takes at the rate limit)."""
    opts = run.options
    for version in opts.versions:
        updates, reads = replay.versions.get(version, 0), replay.reads.get(version, 0) + extra_reads
        most = updates + reads + most_requests(profiles.load(version))
        took = ""
        if opts.rate_limit:
            took = f" at {opts.rate_limit:g}/s: about {round(most / opts.rate_limit)} s"
        say(
            f"fpjs [{version}]: at most {most} requests ({updates} recorded updates, {reads} read-backs, "
            f"the preflight; then the restore){took}"
        )


def main(args: argparse.Namespace) -> int:
    """Replay the HAR's updates against the target the options name; the exit status."""
    commands.fill_from_environment(args)
    try:
        entries = read_entries(args.har)
    except UsageError as exc:
        return commands.usage(str(exc))
    versions = recorded_versions(entries)
    if not versions:
        return commands.usage(f"{args.har}: its entries name no API version this suite knows; nothing was sent")
    if not getattr(args, "api_version", None):
        args.api_version = ",".join(versions)
    run = commands.budgeted_run(args)
    if isinstance(run, int):
        return run
    opts, say = run.options, commands.printer(run)

    replay = plan(entries, run)
    refused = refuse_undesignated(args.har, replay, run)
    if refused:
        return commands.usage(refused)
    if not replay.groups:
        for note in notes(replay):
            sys.stderr.write(f"fpjs: {note}\n")
        versions = ", ".join(opts.versions)
        return commands.usage(f"{args.har}: no recorded update to replay under {versions}; nothing was sent")
    cap_exploration(run, replay)
    try:
        copy = commands.prepare_folder(Path(args.har), opts.report_dir, (JSON_FILE, MD_FILE), SOURCE_COPY)
    except OSError as exc:
        return commands.usage(f"--report-dir {opts.report_dir}: cannot write there ({exc}); nothing was sent")
    if copy is not None:
        say(f"fpjs: the HAR replayed is where this replay's reports go: kept as {copy}")
    target = commands.target_name(opts)
    say(f"fpjs: replaying {args.har} against {target}")
    announce(run, replay, say)
    complete = True
    try:
        complete = send(run, replay, say)
    finally:
        run.stop()
    rows = differences(replay)
    said = notes(replay)
    for row in rows[:SHOWN]:
        say(diff_line(row))
    if len(rows) > SHOWN:
        say(f"fpjs: ... and {len(rows) - SHOWN} more differences (all in {opts.report_dir / MD_FILE})")
    for note in said:
        say(f"fpjs: {note}")
    for line in commands.restore_lines(run):
        say(line)
    status = exit_status(run, reporting.collect(run, Exit.OK), complete, rows, bool(args.fail_on_diff))
    counts = replay_counts(replay)
    status = commands.write_reports(run, status, extra={"replay": counts})
    answers = len({r["entry"] for r in rows})
    broken = commands.violated(run)
    head = [
        f"Replay of `{args.har}` against {target}.",
        f"{counts_text(counts)}; {len(rows)} difference(s) in {answers} answer(s).",
        f"Clauses violated by the replayed answers: {', '.join(broken) or 'none'}.",
    ]
    try:
        paths = reporting.write_files(opts.report_dir, replay_report.files(rows, head, said), run.secrets)
    except OSError as exc:
        sys.stderr.write(f"fpjs: could not write the reports to {opts.report_dir}: {exc}\n")
        paths = []
        status = Exit.REPORTS if status == Exit.OK else status
    written = list(dict.fromkeys([*run.report_paths, *paths]))  # each once
    if written:
        say(f"fpjs: reports in {opts.report_dir}: {', '.join(p.name for p in written)}")
    say(
        f"fpjs: replay: {counts_text(counts)}, {len(rows)} difference(s) in {answers} answer(s), "
        f"{len(broken)} clause(s) violated{': ' + ', '.join(broken) if broken else ''}; "
        f"result {reporting.RESULTS.get(status, 'failed')} (exit {status})"
    )
    for line in reporting.closing_lines(run):
        say(line)
    return status


def _standalone(argv: list[str] | None = None) -> int:
    """`python -m fpjs_conformance.replay HAR ...`: the subcommand on its own."""
    return commands.standalone("replay", register, argv)


if __name__ == "__main__":
    sys.exit(_standalone())
