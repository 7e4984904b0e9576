"""`fpjs-conformance proxy`: a validation proxy that judges real clients' traffic as it passes.

    fpjs-conformance proxy --upstream https://api.fpjs.io/v4 --api-version v4 --port 8081
    # then point the client (an SDK, the application, curl) at http://127.0.0.1:8081/v4

Every request is forwarded to the upstream unchanged (method, path and query as they came, headers
but the hop-by-hop ones and Host, the body byte for byte, streamed) and the answer goes back as it
came (status, headers but the hop-by-hop ones, the body still encoded, streamed): `proxy_forward`.
What cannot go upstream unchanged (a URL or a host as the request-target, CONNECT, a path the HTTP
client would normalise) gets a 4xx of the proxy's own. Only the first bytes of each body are held
(`proxy_forward.KEPT` in the records, a request body up to it judged whole; an answer up to 1 MiB
judged, past that as the suite's transport judges it), so memory stays flat. Each update of an
event, and each read-back of one, is judged on the way (`proxy_judge`; read by the codec, `proxy_app`):

- the request against the client clauses (`rules.client`: UE-CLIENT-01..03): a body valid against
  the schema, the key only in a place the document declares, the JSON media type declared;
- the answer against the clauses the suite judges a server by, through the same oracle and checks
  (`oracle.expect`, `oracle.judge` via `Target.judge_sent`): the universal response checks, the
  credentials (with `--api-key`), the body and id clauses; a read-back of an event after an
  accepted update of it must show the fields sent (UE-SEM-01; fields set by an earlier update and
  not sent since: UE-SEM-02).

The proxy cannot see an event's state: the event may exist or not, be past its update window, or
not be ready yet. The oracle predicts the answer for each state the event may be in (the states
the proxy has not ruled out: a 200 to an update or a read-back of it shows it exists, the
read-back's time field its age) and the answer is judged under the first state it fits, else under
the state whose lead clause allows its status. A 409 not-ready is transient (the client may retry):
no clause but the universal response checks judges it. Without the key (`--api-key` or
FPJS_API_KEY) the proxy cannot tell a valid key from a wrong one: the clauses that need to are not
judged (`NEEDS_KEY`), which the summary says; the universal checks and the body, id and stored-field
clauses still are.

No key is kept in a request (the codec names it, or a placeholder stands for it), and everything is judged
as it came: the keys, and values under credential-like names, are scrubbed where data leaves (the records,
the reports, the terminal), never before it is judged. An update whose body went past the bytes kept, or came
encoded, is judged only by the clauses every answer is judged by.

Each new violation is printed as one line on stderr as it is found. Stopped (Ctrl-C or SIGTERM; a second
signal stops at once), the proxy finishes the exchanges in flight, writes the reports a run writes
(summary.json, summary.md, junit.xml, report.html, behaviour.json, traffic.har with `_fpjs.kind`
"proxy") and exits 0 with no violation, 1 with any (9 when the reports could not be written).
Clauses that need a designed probe (wrong keys, odd ids, the expired event) show as not exercised.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fpjs_conformance import changes, clauses, commands, options, reporting
from fpjs_conformance import profile as profiles
from fpjs_conformance.endpoint import split_userinfo, tls_context
from fpjs_conformance.keys import API_KEY_VAR
from fpjs_conformance.profile import Profile
from fpjs_conformance.proxy_app import HOST, Proxy, listen, serve
from fpjs_conformance.proxy_judge import NEEDS_KEY, NEEDS_PROBE
from fpjs_conformance.run import Run
from fpjs_conformance.runstate import Exit

DEFAULT_PORT = 8081
UPSTREAM_VAR = "FPJS_PROXY_UPSTREAM"
PORT_VAR = "FPJS_PROXY_PORT"
VERSION_VAR = options.env_name("api_version")


# -- the command ----------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upstream",
        default=os.environ.get(UPSTREAM_VAR) or None,
        help="the server to forward to: for v4 its URL with /v4 (https://api.fpjs.io/v4), for v3 the root "
        f"[env {UPSTREAM_VAR}]",
    )
    parser.add_argument(
        "--port",
        default=os.environ.get(PORT_VAR) or str(DEFAULT_PORT),
        help=f"the port on {HOST} clients connect to; 0 picks a free one (printed on the READY line) "
        f"[env {PORT_VAR}; default {DEFAULT_PORT}]",
    )
    parser.add_argument(
        "--api-version",
        default=os.environ.get(VERSION_VAR) or None,
        help="v3 or v4: the API version the clients speak (default: v4 when the upstream's path ends in /v4, "
        f"else v3) [env {VERSION_VAR}]",
    )
    commands.add_suite_options(parser, ("api_key", "report_dir", "request_timeout", "ca_bundle", "no_traffic"))


def register(subparsers) -> None:
    """`fpjs-conformance proxy`."""
    parser = subparsers.add_parser(
        "proxy",
        help="forward real clients' traffic to a server and judge every update and read-back on the way",
        description=__doc__.split("\n\n", 1)[0],
    )
    add_arguments(parser)
    parser.set_defaults(command_main=command_main)


def parse(args: argparse.Namespace) -> tuple[options.Options, int]:
    """The options a proxy session needs, validated before anything listens; a bad value is one `ERROR:`
    line and exit 4."""
    commands.fill_from_environment(args)
    try:
        options.check_environment()
        upstream = (args.upstream or "").strip().rstrip("/")
        if not upstream:
            raise options.OptionError(f"--upstream (or {UPSTREAM_VAR}) is required: the server to forward to")
        try:
            options.check_base_url(upstream)
        except options.OptionError as exc:
            raise options.OptionError(str(exc).replace("--base-url", "--upstream")) from None
        if split_userinfo(upstream)[1] is not None:
            raise options.OptionError("--upstream must not carry a user:password (the proxy would add a header)")
        version = _version(args.api_version, upstream)
        api_key = args.api_key or None
        options.check_key("--api-key", api_key)
        timeout = options.positive(args.request_timeout or "10", "--request-timeout", options.MAX_REQUEST_TIMEOUT)
        try:
            port = int(str(args.port))
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise options.OptionError(f"--port must be a port number, 0 for a free one (got {args.port!r})")
        ca_bundle = args.ca_bundle or None
        if ca_bundle:
            options.check_ca_bundle(ca_bundle)
        report_dir = options.report_folder(args.report_dir, Path.cwd())
    except options.OptionError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        raise SystemExit(Exit.USAGE) from None
    opts = options.Options(
        versions=(version,),
        report_dir=report_dir,
        base_urls={version: upstream},
        api_key=api_key,
        rate_limit=None,  # the client's pace, not the proxy's
        timeout=timeout,
        run_timeout=options.MAX_RUN_TIMEOUT,  # a session lasts until it is stopped
        ca_bundle=ca_bundle,
        no_restore=True,  # the proxy writes nothing of its own: there is nothing to restore
        traffic=not getattr(args, "no_traffic", False),
    )
    return opts, port


def _version(option: str | None, upstream: str) -> str:
    """The one version the session judges (a proxy fronts one API version)."""
    chosen = options.choose_versions(option, upstream)
    if len(chosen) != 1:
        raise options.OptionError(f"--api-version must be one of {', '.join(profiles.versions())} (got {option!r})")
    return chosen[0]


def command_main(args: argparse.Namespace) -> int:
    opts, port = parse(args)
    sock = listen(port)
    run = commands.new_run(opts)
    run.judges_clients = True
    reporting.write_placeholder(opts.report_dir)
    run.start()  # the run's keys (`Secrets`); the proxy's own signal handling follows in `serve`
    proxy = Proxy(run, opts.base_urls[opts.versions[0]], opts.timeout, tls_context(opts.ca_bundle))
    if opts.api_key is None:
        proxy.say(
            f"fpjs proxy: no --api-key ({API_KEY_VAR}): the clauses that need to tell a valid key from a wrong one "
            f"({', '.join(c for c in NEEDS_KEY if _applies(c, proxy.profile))}) are not judged"
        )
    why = "stopped"
    try:
        why = serve(proxy, sock)
    finally:
        status = finish(run, proxy, why)
    return status


def _applies(clause_id: str, profile: Profile) -> bool:
    return clauses.get(clause_id).applies_to(profile.version)


def finish(run: Run, proxy: Proxy, why: str) -> int:
    """The session's reports, as a run writes them; the exit status (0: no violation, 1: any, 9: no reports)."""
    run.stop()  # closes the target's transport (it never sent) and keeps its numbers for the summary
    run.restores.clear()  # nothing was restored: the proxy writes nothing of its own
    run.stop_request = None  # a signal is how a proxy session ends, not an interruption
    target, profile = proxy.target, proxy.profile
    reasons = dict(NEEDS_PROBE)
    if run.options.api_key is None:
        reasons |= dict.fromkeys(NEEDS_KEY, f"not judged: the proxy ran without --api-key ({API_KEY_VAR})")
    for clause_id, reason in reasons.items():
        if _applies(clause_id, profile):
            target.ledger.skipped(clause_id, reason)
    failed = sorted(c for c, t in target.ledger.clauses.items() if t.failed)
    ready = changes.readiness_report(run)  # a client of a version with a successor: what it must change
    status = commands.write_reports(run, Exit.VIOLATED if failed else Exit.OK, ready)
    t = proxy.tally
    counts = ", ".join(f"{c} ({target.ledger.clauses[c].failed})" for c in failed)
    lines = [
        f"fpjs proxy: {why}: {t.updates} update(s) and {t.read_backs} read-back(s) judged"
        + (f" ({t.not_judged} with an encoded body not judged)" if t.not_judged else ""),
        f"fpjs proxy: {t.violations} violation(s)" + (f" in {counts}" if failed else ""),
    ]
    if run.options.api_key is None:
        lines.append(f"fpjs proxy: credential clauses not judged (no --api-key / {API_KEY_VAR})")
    lines += [f"fpjs proxy: {line}" for section in ready.get("sections", []) for line in section["lines"]]
    if run.report_paths:
        lines.append(f"fpjs proxy: reports in {run.options.report_dir}")
    for line in lines:
        proxy.say(line)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fpjs-conformance proxy", description=__doc__.split("\n\n", 1)[0])
    add_arguments(parser)
    return command_main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
