"""One run of the suite: its options, the bundled server, a target per API version, and what happened.

The pytest plugin owns one `Run`; the gate and the reports read it. Building a version's target
sends its first requests (the preflight), so targets are made on first use, after the report
folder has been proven writable and SIGTERM has been made to stop the run the way Ctrl-C does:
the event is restored, the reports say "interrupted", the bundled server is stopped.
"""

from __future__ import annotations

import secrets as pysecrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpjs_conformance import coverage
from fpjs_conformance import profile as profiles
from fpjs_conformance.designated import EventState
from fpjs_conformance.explore import Exploration
from fpjs_conformance.ledger import Ledger
from fpjs_conformance.model import Events
from fpjs_conformance.options import Options
from fpjs_conformance.preflight import preflight
from fpjs_conformance.restore import restore
from fpjs_conformance.runstate import Exit
from fpjs_conformance.table import Case
from fpjs_conformance.target import Target, TargetUnreachable
from fpjs_conformance.transport import Budget, Policy, Secrets, Transport, tls_context

RESTORE_RESERVE = 3  # requests kept back from the budget: read, write back, read again


@dataclass
class Run:
    options: Options
    exploration: Exploration
    selected: dict[str, set[str]] = field(default_factory=dict)  # version -> clause ids collected
    secrets: list[str] = field(default_factory=list)  # everything the scrubber removes
    started: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    targets: dict[str, Target] = field(default_factory=dict)
    tables: dict[str, list[Case]] = field(default_factory=dict)  # version -> its coverage table
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans_ahead: dict[str, dict[str, Any]] = field(default_factory=dict)  # the estimate, before any request
    restores: dict[str, dict[str, str]] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: str | None = None  # why the run ended early (setup problem, unreachable, timeout)
    stop_code: int | None = None
    errors: dict[str, list[dict]] = field(default_factory=dict)  # "version::clause" -> non-violation errors
    failing_tests: dict[str, list[str]] = field(default_factory=dict)  # "version::clause" -> node ids
    deviations: dict[str, Any] | None = None
    drift: dict[str, Any] | None = None
    report_paths: list[Path] = field(default_factory=list)
    event: EventState = field(default_factory=EventState)  # the designated event, shared by the versions
    seed: str | None = None
    _server: Any = None
    _keys: Secrets | None = None
    _budget: Budget | None = None
    _old_sigterm: Any = None
    _started_up: bool = False

    # -- start and stop -----------------------------------------------------------------------------
    def start(self) -> None:
        """Before the first request: SIGTERM stops the run like Ctrl-C, the bundled server starts (when
        there is no --base-url)."""
        if self._started_up:
            return
        self._started_up = True
        if hasattr(signal, "SIGTERM"):
            self._old_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
        o = self.options
        if o.max_requests is not None:
            reserve = 0 if o.no_restore else RESTORE_RESERVE  # the event is restored once, whatever the versions
            self._budget = Budget(o.max_requests, reserve=min(reserve, max(0, o.max_requests - 1)))
        if o.embedded:
            self._start_server()
        else:
            self._keys = Secrets(o.api_key or "", o.wrong_region_api_key, o.userinfo)

    def _start_server(self) -> None:
        from fpjs_conformance.refserver.launch import ServerProcess

        env = {
            "FPJS_REF_API_KEY": "ref" + pysecrets.token_hex(12),
            "FPJS_REF_WRONG_REGION_API_KEY": "eu" + pysecrets.token_hex(12),
        }
        self.secrets += list(env.values())
        # The server seeds Settings' default ids (see events()).
        self._server = ServerProcess(["-m", "fpjs_conformance.refserver", "--port", "0"], env=env).start()
        self._keys = Secrets(env["FPJS_REF_API_KEY"], env["FPJS_REF_WRONG_REGION_API_KEY"])

    def stop(self) -> None:
        """Leave every event as found, then stop the bundled server and restore SIGTERM."""
        try:
            reachable = [(v, t) for v, t in self.targets.items() if not t.unreachable] or list(self.targets.items())
            if reachable:
                first, target = reachable[0]
                try:
                    outcome = restore(target, no_restore=self.options.no_restore)
                except KeyboardInterrupt:
                    outcome = {"status": "could not restore", "why": "interrupted while restoring"}
                except Exception as exc:
                    outcome = {"status": "could not restore", "why": f"{type(exc).__name__}: {exc}"}
                for version in self.targets:  # one event, updated under every version: restored once
                    why = [outcome.get("why", "")] + ([f"restored through {first}"] if version != first else [])
                    self.restores[version] = {**outcome, "why": "; ".join(w for w in why if w)}
            for version, target in self.targets.items():
                self.stats[version] = target.transport.stats.as_dict()
                target.transport.close()
        finally:
            if self._server is not None:
                self._server.stop()
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None

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
            return Events(s.request_id, s.expired_for(window), s.not_ready_request_id)
        return Events(o.request_id or "", o.expired_request_id, o.not_ready_request_id)

    def table(self, version: str) -> list[Case]:
        """The version's coverage table (built once)."""
        if version not in self.tables:
            wrong_region = bool(self.options.wrong_region_api_key) or self.options.embedded
            self.tables[version] = coverage.cases(
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
        )
        if o.embedded:  # the bundled server counts updates, not time: no need to wait between tries
            policy.not_ready_backoff = (0.01,) * len(policy.not_ready_backoff)
        return policy

    def target(self, version: str) -> Target:
        """The version's target. The first call prepares every version's (preflight, then the coverage
        table), so the table runs before any random example and its findings are all in, whatever
        test stops the run first (`-x`)."""
        if not self.targets:
            self.start()
            for each in self.options.versions:
                if each in self.selected or each == version:  # `-k v4` leaves v3's event alone
                    self._prepare(each)
        return self.targets[version]

    def _prepare(self, version: str) -> None:
        """Build one version's target, preflight it, run its coverage table. A target that stops
        answering ends its own version, not the others'."""
        profile = profiles.load(version)
        budgets = [Budget(self.exploration.profile.requests_per_version, reserve=RESTORE_RESERVE)]
        if self._budget is not None:
            budgets.append(self._budget)
        base_url = self.base_url(version)
        transport = Transport(profile, base_url, self._keys, self.policy(), tuple(budgets))
        target = Target(
            profile,
            transport.shown_base_url,
            self.events(version),
            transport,
            Ledger(version),
            has_wrong_region_key=self._keys.wrong_region_api_key is not None,
            embedded=self.options.embedded,
            state=self.event,
        )
        target.exploration = self.exploration
        self.targets[version] = target
        selected = self.selected.get(version, set())
        target.unexplored = set(selected)
        try:
            preflight(target, no_restore=self.options.no_restore)
            self.plans[version] = coverage.cover(target, self.table(version), selected)
        except TargetUnreachable as exc:
            target.unreachable = str(exc)
            self.plans.setdefault(version, {"cases": 0, "sent": 0, "left_out": []})
            self.stopped = "; ".join(filter(None, (self.stopped, f"[{version}] {exc}")))
            self.stop_code = Exit.VIOLATED

    def estimate(self) -> dict[str, dict[str, Any]]:
        """Before the first request: at most how many requests each version will send, and how long that
        takes at the rate limit (the coverage table's requests are counted exactly, random examples at most)."""
        out = {}
        caps = [self.exploration.profile.requests_per_version]
        if self.options.max_requests is not None:
            caps.append(self.options.max_requests)
        for version in self.options.versions:
            selected = self.selected.get(version, set())
            table_requests = sum(coverage.requests_of(c) for c in self.table(version) if c.clause_id in selected)
            most = table_requests + 3 * self.exploration.profile.examples * len(selected) + 2 + RESTORE_RESERVE
            planned = min([most, *caps])
            entry = {"coverage_requests": table_requests, "at_most": planned}
            if self.options.rate_limit:
                entry["seconds_at_rate_limit"] = round(planned / self.options.rate_limit)
            out[version] = entry
        return out

    # -- what the reports need ---------------------------------------------------------------------
    def behaviour(self) -> dict[str, Any]:
        from fpjs_conformance import behaviour

        observations = {}
        for version, target in self.targets.items():
            stats = target.transport.stats
            if any(stats.statuses.get(s) for s in target.profile.role("rate_limited").statuses):
                observations[version] = {"429-retry-after": stats.retry_after_seen > 0}
        return behaviour.snapshot({v: t.behaviour for v, t in self.targets.items()}, observations)

    def first_violation_s(self) -> float | None:
        times = [t.first_violation for t in self.targets.values() if getattr(t, "first_violation", None)]
        return round(min(times) - self.started, 3) if times else None
