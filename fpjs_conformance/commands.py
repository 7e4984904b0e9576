"""What the `fpjs-conformance` commands share with a pytest run: the same options (each with its
environment fallback), parsed and validated by `options.parse`; a `Run` outside pytest; the same
reports, written the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from fpjs_conformance import options, reporting
from fpjs_conformance.explore import HYPOTHESIS_PROFILES, Exploration
from fpjs_conformance.runstate import Exit
from fpjs_conformance.session import Run


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
    """A run outside pytest (no Hypothesis exploration), secrets registered for the scrubber."""
    run = Run(opts, exploration())
    run.secrets += [s for s in (opts.api_key, opts.wrong_region_api_key) if s]
    if opts.userinfo:
        run.secrets += [opts.userinfo, opts.userinfo.partition(":")[2]]
    return run


def write_reports(run: Run, status: int, extra: dict | None = None) -> int:
    """The reports of a command's run, as a pytest run writes them (`extra`: the command's own fields in
    summary.json); the exit status (9 when they fail)."""
    model = reporting.collect(run, status)
    model.update(extra or {})
    try:
        traffic = run.traffic.records if run.options.traffic else None
        run.report_paths = reporting.write_all(run.options.report_dir, model, run.behaviour(), run.secrets, traffic)
    except OSError as exc:
        sys.stderr.write(f"fpjs: could not write the reports to {run.options.report_dir}: {exc}\n")
        return Exit.REPORTS if status == Exit.OK else status
    return status
