"""One run of the suite: its options, the bundled server, a target per API version, and what happened.

The pytest plugin owns one `Run`; the gate records into it; once it ended, the reports and the exit status
read its `result.RunResult`. Building a version's target
sends its first requests (the preflight), so targets are made on first use. Each version is
prepared on its own: one that is not served, or whose designated event is not usable, stops alone
and the others are still judged. SIGTERM and SIGINT only ask the run to stop: it stops at the next
safe point (before a request, inside a wait, between tests) and goes the normal way (a second signal
stops it at once). However the run ends, `stop` restores the designated event in a phase of its own
(its own deadline and reserve) and finishes the journal, then stops the bundled server.
"""

from __future__ import annotations

import json
import secrets as pysecrets
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpjs_conformance import contract, designated, provenance, table_run
from fpjs_conformance import profile as profiles
from fpjs_conformance.designated import EventState
from fpjs_conformance.endpoint import tls_context
from fpjs_conformance.explore import Exploration
from fpjs_conformance.gateway import Transients
from fpjs_conformance.keys import Secrets
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.limits import Budget, Policy
from fpjs_conformance.model import Events, printable
from fpjs_conformance.options import RESTORE_RESERVE, SECRET_OPTIONS, Options
from fpjs_conformance.preflight import NotServed, preflight
from fpjs_conformance.restore import restore, restore_from
from fpjs_conformance.result import joined_stop
from fpjs_conformance.runstate import Exit
from fpjs_conformance.table import Case
from fpjs_conformance.target import SetupProblem, Target, TargetUnreachable
from fpjs_conformance.traffic import Traffic
from fpjs_conformance.transport import RunTimedOut, Transport
from fpjs_conformance.writegate import UndesignatedWrite

EMBEDDED_NOT_READY_BUDGET = 0.15  # seconds: the bundled server's not-ready event clears after two tries
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT") if hasattr(signal, name))
EXPLORING = "random examples of"  # the progress line once a version's coverage table is sent (the event changed)


@dataclass(repr=False)
class Run:
    options: Options
    exploration: Exploration
    selected: dict[str, set[str]] = field(default_factory=dict)  # version -> clause ids collected
    tests: dict[str, dict[str, str]] = field(default_factory=dict)  # version -> clause -> its test, in test order
    secrets: list[str] = field(default_factory=list)  # everything the scrubber removes (`add_secrets`)
    started: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    targets: dict[str, Target] = field(default_factory=dict)
    tables: dict[str, list[Case]] = field(default_factory=dict)  # version -> its coverage table
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans_ahead: dict[str, dict[str, Any]] = field(default_factory=dict)  # the estimate, before any request
    restores: dict[str, dict[str, str]] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    transport_records: dict[str, dict[str, list]] = field(default_factory=dict)  # version -> resends, errors
    version_stops: dict[str, dict[str, Any]] = field(default_factory=dict)  # version -> why it was not judged
    stopped: str | None = None  # why the run (or a version of it) ended early: one line each
    stop_code: int | None = None
    stop_request: str | None = None  # a signal asked the run to stop
    timed_out: bool = False
    notices: list[str] = field(default_factory=list)  # lines for the terminal, printed once
    say: Any = None  # prints a line at once (the pytest plugin's terminal); None: the line waits in `notices`
    errors: dict[str, list[dict]] = field(default_factory=dict)  # "version::clause" -> non-violation errors
    failing_tests: dict[str, list[str]] = field(default_factory=dict)  # "version::clause" -> node ids
    deviations: dict[str, Any] | None = None
    report_paths: list[Path] = field(default_factory=list)
    event: EventState = field(default_factory=EventState)  # the designated event, shared by the versions
    traffic: Traffic = field(default_factory=Traffic)  # every exchange of the run, in order
    transients: Transients = field(default_factory=Transients)  # intermediaries' 5xx pages that were retried
    judges_clients: bool = False  # a proxy session: the client clauses are judged and reported too
    seed: str | None = None
    fail_fast: int | None = None  # pytest's -x / --maxfail=N: preparing stops once N clauses have failed
    _server: Any = None
    _keys: Secrets | None = None
    _budget: Budget | None = None
    _old_handlers: dict = field(default_factory=dict)
    _started_up: bool = False
    _prepared: bool = False
    finishing: bool = False  # the restore phase has begun: from here to the end, signals only set flags
    claim: str = field(default_factory=lambda: pysecrets.token_hex(6))  # names this run on the event it claims
    _journal_said: bool = False

    def __post_init__(self) -> None:
        o = self.options
        userinfo = o.userinfo or ""
        self.add_secrets([*(getattr(o, name) for name in SECRET_OPTIONS), userinfo, userinfo.partition(":")[2]])

    def __repr__(self) -> str:  # --full-trace and -l show it: no options, no secrets
        return f"Run({', '.join(self.options.versions)})"

    def add_secrets(self, texts: Iterable[str | None]) -> None:
        """The one place a text to scrub is registered: every scrubber handed `secrets` (the terminal, the log
        records, the reprs, the reports) removes it from then on. Each text once."""
        for text in texts:
            if text and text not in self.secrets:
                self.secrets.append(text)

    # -- start and stop -----------------------------------------------------------------------------
    def start(self) -> None:
        """Before the first request: signals only ask the run to stop, the bundled server starts (when
        there is no --base-url)."""
        if self._started_up:
            return
        self._started_up = True
        self.traffic.enabled = self.options.traffic
        self.transients.strict = self.options.strict
        for signum in SIGNALS:
            self._old_handlers[signum] = signal.signal(signum, self._on_signal)
        o = self.options
        if o.max_requests is not None:
            self._budget = Budget(o.max_requests, reserve=0 if o.no_restore else RESTORE_RESERVE)
        if o.embedded:
            self._start_server()
        else:
            self._keys = Secrets(o.api_key or "", o.wrong_region_api_key, o.userinfo, o.foreign_api_key)

    def _on_signal(self, signum: int, frame: Any) -> None:
        """The first signal asks the run to stop at its next safe point. A second one stops it at once, unless
        the restore has begun (it runs to its end, bounded by its own deadline) or a write of the designated
        event is on the wire (its answer is awaited, within the request timeout, so that it cannot land after
        the restore): then it is noted, and the run stops at the next safe point as after the first."""
        name = signal.Signals(signum).name
        if self.stop_request is None:
            self.stop_request = f"interrupted by {name}"
            return
        if self.finishing or any(t.transport.in_flight_write for t in self.targets.values()):
            return
        raise KeyboardInterrupt(f"{name} again: stopping now")

    def requested_stop(self) -> str | None:
        return self.stop_request

    def _start_server(self) -> None:
        from fpjs_conformance.refserver.launch import ServerProcess

        env = {
            "FPJS_REF_API_KEY": "ref" + pysecrets.token_hex(12),
            "FPJS_REF_WRONG_REGION_API_KEY": "eu" + pysecrets.token_hex(12),
            "FPJS_REF_FOREIGN_API_KEY": "fw" + pysecrets.token_hex(12),
        }
        self.add_secrets(env.values())
        # The server seeds Settings' default ids (see events()).
        self._server = ServerProcess(["-m", "fpjs_conformance.refserver", "--port", "0"], env=env).start()
        self._keys = Secrets(
            env["FPJS_REF_API_KEY"],
            env["FPJS_REF_WRONG_REGION_API_KEY"],
            foreign_api_key=env["FPJS_REF_FOREIGN_API_KEY"],
        )

    def stop(self) -> None:
        """Leave the designated event as found (the restore phase, once, whichever versions ran), finish
        the journal, then stop the bundled server. A deadline that passed in the random examples of the
        last test (no later test noticed it) stops the run too. The signals stay the run's until
        `release` (the reports are written in between)."""
        self.finishing = True
        late = next((t.timed_out for t in self.targets.values() if t.timed_out), None)
        if late and not self.timed_out:
            self.timed_out = True
            self.stop_with(f"{late} (--run-timeout={self.options.run_timeout:g}s)", Exit.VIOLATED)
        try:
            if self.options.restore_from is None:  # --restore-from restored already (`restore_from`)
                self._restore()
            self._settle_transients()
            for version, target in self.targets.items():
                self.stats[version] = {**target.transport.stats.as_dict(), "read_lag": target.reads.lag.as_dict()}
                self.transport_records[version] = {
                    "resends": list(target.transport.resends),
                    "errors": list(target.transport.errors),
                    "gateway": self.transients.records(version),
                }
                target.transport.close()
        finally:
            if self._server is not None:
                self._server.stop()
        if self.stop_request and self.stop_code != Exit.INTERRUPTED:  # a signal during the restore
            self.stop_with(self.stop_request, Exit.INTERRUPTED)

    def _settle_transients(self) -> None:
        """Intermediaries' pages were more than a rare few of the run's requests: each fails (UE-RESP-02)."""
        requests = sum(t.transport.stats.sent for t in self.targets.values())
        for target, page in self.transients.settle(requests):
            target.judge_server_fault(page, "server-error")

    def release(self) -> None:
        """Give the signals back: the run's last step, after its reports."""
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)
        self._old_handlers.clear()

    def _restore(self) -> None:
        """Restore through a version that read the event (a version not served, or stopped before it read
        the event, cannot), else through any that still answers."""
        ranked = sorted(self.targets.items(), key=lambda vt: (not vt[1].reads_back, bool(vt[1].unreachable)))
        if not ranked:
            return
        first, target = ranked[0]
        try:
            outcome = restore(target, no_restore=self.options.no_restore)
        except KeyboardInterrupt:
            outcome = {"status": designated.NOT_FINISHED, "why": "interrupted again while restoring"}
        except Exception as exc:
            outcome = {"status": designated.NOT_FINISHED, "why": f"{type(exc).__name__}: {exc}"}
        outcome = {k: printable(str(v)) for k, v in outcome.items()}
        journal = self.event.journal
        if journal is not None:
            journal.finish(outcome)
            if journal.failed:
                outcome["why"] = "; ".join(w for w in (outcome.get("why"), journal.failed) if w)
            if not journal.finished:
                outcome["why"] = "; ".join(
                    w
                    for w in (
                        outcome.get("why"),
                        f"the original values are in {journal.path}: put them back with --restore-from {journal.path}",
                    )
                    if w
                )
        for version in self.targets:  # one event, updated under every version: restored once
            why = [outcome.get("why", "")] + ([f"restored through {first}"] if version != first else [])
            self.restores[version] = {**outcome, "why": "; ".join(w for w in why if w)}

    @property
    def unrestored(self) -> bool:
        """The restore did not finish (`could not restore`): `--restore-from` and replay exit 10 (a run's
        exit status reads its `RunResult`'s)."""
        return any(r.get("status") == designated.NOT_FINISHED for r in self.restores.values())

    def open_journal(self) -> tuple[Path, str] | None:
        """The journal this run leaves open (its own, or the one --restore-from was given) and the version its
        values are read in; None when there is none, or it is the bundled server's (its event is gone)."""
        if self.options.restore_from is not None:
            data = designated.read(self.options.restore_from) or {}
            if data.get("state") in designated.FINISHED or not self.restores:
                return None
            return self.options.restore_from, next(iter(self.restores))
        journal = self.event.journal
        if journal is None or journal.finished or journal.data.get("embedded"):
            return None
        return journal.path, journal.data["version"]

    def notice(self, line: str) -> None:
        """A line for the user: printed at once where the run can (`say`), else kept for later."""
        if self.say is not None:
            self.say(line)
        else:
            self.notices.append(line)

    def stop_with(self, line: str, code: int) -> None:
        """Record why the run (or a version of it) stopped early: one printable line each."""
        self.stopped, self.stop_code = joined_stop(self.stopped, self.stop_code, line, code)

    # -- targets ------------------------------------------------------------------------------------
    def base_url(self, version: str) -> str:
        if self.options.base_urls is not None:
            return self.options.base_urls[version]
        return self._server.url + profiles.load(version).server_path

    def events(self, version: str) -> Events:
        o = self.options
        if o.embedded:
            from fpjs_conformance.refserver.app import Settings

            s = Settings()
            window = profiles.load(version).update_window_days
            return Events(s.request_id, s.expired_for(window), s.not_ready_request_id, s.foreign_request_id)
        return Events(o.request_id or "", o.expired_request_id, o.not_ready_request_id, o.foreign_request_id)

    def table(self, version: str) -> list[Case]:
        """The version's coverage table (built once)."""
        if version not in self.tables:
            wrong_region = bool(self.options.wrong_region_api_key) or self.options.embedded
            self.tables[version] = table_run.cases(
                profiles.load(version), self.events(version), wrong_region=wrong_region
            )
        return self.tables[version]

    def policy(self) -> Policy:
        o = self.options
        policy = Policy(
            timeout=o.timeout,
            rate_limit=o.rate_limit,
            verify=tls_context(o.ca_bundle),
            deadline=self.started + o.run_timeout,
            stop_requested=self.requested_stop,
            connections=o.connections,
        )
        if o.not_ready_budget is not None:
            policy.not_ready_budget = o.not_ready_budget
        elif o.embedded:  # the bundled server counts updates, not time: no need to wait between tries
            policy.not_ready_budget = EMBEDDED_NOT_READY_BUDGET
        policy.grace = max(policy.grace, policy.not_ready_budget + 2 * o.timeout)  # the restore may wait it out too
        return policy

    def target(self, version: str) -> Target:
        """The version's target. The first call prepares every version's (preflight, the coverage table,
        then the selected clauses' random examples), so every verdict is settled before any test reports
        (`contract`); with `-x` preparing stops at the first failing verdict (`Target.enough_failures`), and
        every later version is not judged. A version that stopped raises why (SetupProblem)."""
        if not self._prepared:
            self._prepared = True
            self.start()
            unfinished = self._unfinished_journal()
            for each in self.options.versions:
                # `-k v4` leaves v3's event alone; with nothing selected (a replay), every version is prepared
                if each in self.selected or each == version or not self.selected:
                    early = next((t.stopped_early for t in self.targets.values() if t.stopped_early), None)
                    if unfinished:
                        self._stop_version(each, "setup problem", unfinished, Exit.SETUP)
                    elif early:
                        self._stop_version(each, "stopped early", f"[{each}] not judged: {early}", Exit.VIOLATED)
                    else:
                        self._prepare(each)
        stop = self.version_stops.get(version)
        if stop is not None and stop["code"] == Exit.SETUP:
            raise SetupProblem(stop["line"])
        return self.targets[version]

    def _unfinished_journal(self) -> str | None:
        """A run that did not finish left the event changed and its journal here: stop before any write."""
        o = self.options
        if o.embedded or o.no_restore:
            return None
        mine = provenance.record(self.base_url(o.versions[0]), o.request_id or "", self._keys.api_key)
        data = designated.unfinished(o.report_dir, mine)
        if data is None:
            return None
        path = o.report_dir / designated.JOURNAL
        return (
            f"{path} holds the original values of designated event {data['event_id']} from a run that did not "
            f"finish (started {data.get('started_at')}, {data.get('state')}): put them back with "
            f"--restore-from {path}, or designate another event"
        )

    def _prepare(self, version: str) -> None:
        """Build one version's target, preflight it, run its coverage table. A version that cannot be
        judged (not served, a setup problem, a target that stops answering) stops alone."""
        target = self.new_target(version)
        selected = self.selected.get(version, set())
        target.unexplored = set(selected)
        try:
            claim = None if self.options.embedded else self.claim  # the bundled server is never shared
            preflight(target, no_restore=self.options.no_restore, journal_dir=self.options.report_dir, claim=claim)
            journal = self.event.journal
            if journal is not None and not self._journal_said:
                self._journal_said = True
                original = json.dumps(target.profile.to_wire(self.event.original or {}), ensure_ascii=False)
                self.notice(
                    f"fpjs: designated event {target.events.live}: original values {original[:300]} "
                    f"(journal {journal.path})"
                )
                if journal.kept_aside is not None:
                    self.notice(
                        f"fpjs: an unfinished journal of another target, event or key was in its place: kept as "
                        f"{journal.kept_aside} (put its event back with --restore-from {journal.kept_aside})"
                    )
            plan = self.plans[version] = table_run.cover(target, self.table(version), selected)
            # Every selected clause's random examples too, before any test reports: a response informs
            # every clause it can, so a verdict is settled only once all of the version's requests are sent.
            order = self.tests.get(version, {})
            clauses = [*order, *sorted(selected - set(order))]
            if self.exploration.hypothesis_profile.examples and target.unexplored and not target.stopped_early:
                self.notice(
                    f"fpjs [{version}]: {plan['sent']}/{plan['cases']} coverage cases sent; now the {EXPLORING} "
                    f"{len(target.unexplored)} clause(s), before any test reports"
                )
            contract.explore_selected(target, clauses, order)
            if target.stopped_early:
                self._stop_version(version, "stopped early", f"[{version}] {target.stopped_early}", Exit.VIOLATED)
        except NotServed as exc:
            self._stop_version(version, "not served", str(exc), Exit.SETUP)
        except (SetupProblem, UndesignatedWrite) as exc:
            self._stop_version(version, "setup problem", f"setup problem ({version}): {exc}", Exit.SETUP)
        except TargetUnreachable as exc:
            target.unreachable = str(exc)
            self._stop_version(version, "unreachable", f"[{version}] {exc}", Exit.VIOLATED)
        except RunTimedOut as exc:
            self.timed_out = True
            self._stop_version(version, "timed out", f"{exc} (--run-timeout={self.options.run_timeout:g}s)", 1)

    def _stop_version(self, version: str, status: str, line: str, code: int) -> None:
        self.version_stops[version] = {"status": status, "line": printable(line), "code": code}
        self.plans.setdefault(version, {"cases": 0, "sent": 0, "left_out": []})
        self.stop_with(line, code)

    def new_target(self, version: str) -> Target:
        """A version's target, not yet preflighted (a proxy judges through one without sending)."""
        profile = profiles.load(version)
        # The exploration cap does not count the restore's requests; --max-requests keeps a reserve for them.
        budgets = [Budget(self.exploration.hypothesis_profile.requests_per_version, reserve=None)]
        if self._budget is not None:
            budgets.append(self._budget)
        transport = Transport(profile, self.base_url(version), self._keys, self.policy(), tuple(budgets))
        target = Target(
            profile,
            transport.shown_base_url,
            self.events(version),
            transport,
            Ledger(version, strict=self.options.strict),
            has_wrong_region_key=self._keys.wrong_region_api_key is not None,
            has_foreign_key=self._keys.foreign_api_key is not None,
            embedded=self.options.embedded,
            state=self.event,
        )
        target.exploration = self.exploration
        target.fail_fast = self.fail_fast
        target.excused = frozenset(((self.deviations or {}).get("entries") or {}).get(version, {}))
        target.traffic = self.traffic
        events = target.events
        self.traffic.provenance[version] = {
            **provenance.record(self.base_url(version), events.live, self._keys.api_key),
            "events": {
                "live": events.live,
                "expired": events.expired,
                "not_ready": events.not_ready,
                "foreign": events.foreign,
            },
        }
        target.transients = self.transients
        target.reads.lag.settle_s = self.options.settle_time
        self.targets[version] = target
        return target

    @property
    def judged_versions(self) -> list[str]:
        return [v for v in self.targets if v not in self.version_stops or self.version_stops[v]["code"] != Exit.SETUP]

    # -- --restore-from ----------------------------------------------------------------------------
    def restore_from(self, path: Path) -> dict[str, Any]:
        """Put back the original values of an unfinished run's journal (nothing is judged). The journal's
        provenance was checked against this target, event and key before any request (options)."""
        data = designated.read(path)
        if data is None:
            return {"status": designated.NOT_FINISHED, "why": f"{path} is not a journal ({designated.FORMAT})"}
        version = data.get("version")
        if version not in self.options.versions:
            version = next((v for v in self.options.versions if v in data.get("targets", {})), self.options.versions[0])
        self.start()
        target = self.new_target(version)
        target.events = Events(self.options.request_id or data["event_id"])
        try:  # as the run's restore: whatever happens, an outcome (never a traceback)
            outcome = restore_from(target, data, force=self.options.force_restore)
        except KeyboardInterrupt:
            outcome = {"status": designated.NOT_FINISHED, "why": "interrupted again while restoring"}
        except Exception as exc:
            outcome = {"status": designated.NOT_FINISHED, "why": f"{type(exc).__name__}: {exc}"}
        outcome = {k: printable(str(v)) for k, v in outcome.items()}
        if outcome["status"] in designated.FINISHED:
            data.update(state=outcome["status"], outcome=outcome)
            designated.Journal(path, data).finish(outcome)
        self.restores[version] = outcome
        return outcome

    def estimate(self) -> dict[str, dict[str, Any]]:
        """Before the first request: at most how many requests each version will send, and how long that
        takes at the rate limit (the coverage table's requests are counted exactly, random examples at most)."""
        out = {}
        caps = [self.exploration.hypothesis_profile.requests_per_version]
        if self.options.max_requests is not None:
            caps.append(self.options.max_requests)
        for version in self.options.versions:
            selected = self.selected.get(version, set())
            chosen = [c for c in self.table(version) if c.clause_id in selected]
            table_requests = table_run.reads_of(table_run.plan(profiles.load(version), self.events(version), chosen))
            most = table_requests + 3 * self.exploration.hypothesis_profile.examples * len(selected) + 6
            planned = min([most, *caps])
            entry = {"coverage_requests": table_requests, "at_most": planned}
            if self.options.rate_limit:
                entry["seconds_at_rate_limit"] = round(planned / self.options.rate_limit)
            out[version] = entry
        return out
