"""What the `fpjs-conformance` commands share with a pytest run: the same options (each with its
environment fallback), parsed and validated by `options.parse`; a `Run` outside pytest; the same
reports, written by the same writer (`reporting.write_run`) from the run's `result.RunResult`.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fpjs_conformance import options, redact, reporting
from fpjs_conformance.endpoint import split_userinfo
from fpjs_conformance.explore import HYPOTHESIS_PROFILES, Exploration
from fpjs_conformance.preflight import least_requests
from fpjs_conformance.result import RunResult
from fpjs_conformance.run import Run
from fpjs_conformance.runstate import Exit


def add_suite_options(parser: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    """The suite's options named in `names` (dests such as "base_url"), as pytest has them, env fallbacks too."""
    for flag, env, help_text in options.OPTIONS:
        dest = options.dest_of(flag)
        if dest in names:
            alias = options.ALIASES.get(flag, (None, None))[0]
            flags = [flag, *([alias] if alias else [])]
            parser.add_argument(*flags, dest=dest, default=None, help=f"{help_text} [env {env}]")
    for flag, help_text in options.FLAGS:
        dest = options.dest_of(flag)
        if dest in names:
            parser.add_argument(flag, dest=dest, action="store_true", help=help_text)


def fill_from_environment(args: argparse.Namespace) -> None:
    """Each suite option the command line left out takes its variable's value, as in a pytest run."""
    for dest in options.VALUED:
        if hasattr(args, dest) and getattr(args, dest) is None:
            setattr(args, dest, options.from_environment(dest))


def parse_options(args: argparse.Namespace) -> options.Options:
    """The options as a pytest run validates them; a bad value is one `ERROR:` line and exit 4."""
    try:
        options.check_environment()
        return options.parse(lambda dest: getattr(args, dest, None), Path.cwd())
    except options.OptionError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        raise SystemExit(Exit.USAGE) from None


def exploration(requests_per_version: int | None = None) -> Exploration:
    """No random examples; the cap per version the `table` profile has, or `requests_per_version`."""
    table = HYPOTHESIS_PROFILES["table"]
    if requests_per_version is not None:
        table = dataclasses.replace(table, requests_per_version=requests_per_version)
    return Exploration(table)


def new_run(opts: options.Options) -> Run:
    """A run outside pytest (no Hypothesis exploration); its options' secrets are registered with it."""
    return Run(opts, exploration())


def write_reports(run: Run, status: int, extra: dict | None = None) -> int:
    """The reports of a command's ended run, as a pytest run writes them, with what the command adds (`extra`,
    see `reporting.write_run`); the exit status (9 when they fail)."""
    status, run.report_paths = reporting.write_run(RunResult.of(run), status, extra)
    return status


# -- the steps `replay` and `migrate` share -----------------------------------------------------------
def add_har_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    main: Any,
    *,
    own: tuple[tuple[str, dict[str, Any]], ...] = (),
    har_help: str,
    suite_options: tuple[str, ...],
    fail_on: tuple[str, str],
    summary: str,
    doc: str,
) -> argparse.ArgumentParser:
    """A subcommand that re-sends a HAR (`replay`, `migrate`): what sets it apart (`own` arguments: flag,
    add_argument's keywords), then what they share, added in this order: the HAR, its `own` arguments, the
    suite's options it takes, the flag (`fail_on`: flag, help) that makes what it finds fail it; `summary`
    in the command list, `doc`'s first paragraph as its description."""
    parser = subparsers.add_parser(name, help=summary, description=doc.split("\n\n", 1)[0].replace("`", ""))
    parser.add_argument("har", metavar="HAR", help=har_help)
    for flag, kwargs in own:
        parser.add_argument(flag, **kwargs)
    add_suite_options(parser, suite_options)
    flag, help_text = fail_on
    parser.add_argument(flag, dest=options.dest_of(flag), action="store_true", help=help_text)
    parser.set_defaults(command_main=main)
    return parser


def budgeted_run(args: argparse.Namespace) -> Run | int:
    """A run from the command's options, or the usage exit status when --max-requests cannot carry it."""
    opts = parse_options(args)
    problem = budget_problem(opts)
    if problem:
        return usage(problem)
    return new_run(opts)


def printer(run: Run) -> Callable[[str], None]:
    """How a command says a line: on stdout at once, the run's secrets scrubbed."""

    def say(line: str) -> None:
        print(redact.scrub(line, run.secrets), flush=True)

    return say


def usage(line: str) -> int:
    sys.stderr.write(f"ERROR: {line}\n")
    return Exit.USAGE


def budget_problem(opts: Any) -> str | None:
    """Why --max-requests cannot carry the preflight and the restore's reserve, if it cannot."""
    least = least_requests(opts.versions, opts.no_restore)
    if opts.max_requests is not None and opts.max_requests < least:
        return (
            f"--max-requests {opts.max_requests} is too small: the preflight and the restore's reserve alone may "
            f"take {least} (for {', '.join(opts.versions)}); no request was sent"
        )
    return None


def prepare_folder(source: Path, report_dir: Path, own: tuple[str, ...], copy_name: str) -> Path | None:
    """Before any request: the HAR copied aside when the reports would replace it (the copy's path), the
    folder proven writable, no earlier report left to pass as this one's (OSError when it cannot be)."""
    copy = None
    if source.resolve().parent == report_dir.resolve() and source.name in (*reporting.FILES, *own):
        copy = report_dir / copy_name
        shutil.copyfile(source, copy)
    reporting.write_placeholder(report_dir)
    for name in own:
        (report_dir / name).unlink(missing_ok=True)
    return copy


def target_name(opts: Any) -> str:
    if opts.embedded:
        return f"bundled reference server ({', '.join(opts.versions)})"
    return ", ".join(f"{split_userinfo(u)[0]} ({v})" for v, u in opts.base_urls.items())


def restore_lines(run: Any) -> list[str]:
    out = []
    for version, restore in run.restores.items():
        why = f" ({restore['why']})" if restore.get("why") else ""
        out.append(f"fpjs [{version}]: designated event: {restore['status']}{why}")
    return out


def violated(run: Any) -> list[str]:
    """`version::clause` of every clause a sent request's answer violated."""
    return sorted({f"{f['version']}::{f['clause']}" for t in run.targets.values() for f in t.ledger.failures})


def standalone(name: str, register: Any, argv: list[str] | None = None) -> int:
    """`python -m fpjs_conformance.<name> ...`: one subcommand on its own (`register` adds it to a parser)."""
    parser = argparse.ArgumentParser(prog="fpjs-conformance")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([name, *(sys.argv[1:] if argv is None else argv)])
    return args.command_main(args)
