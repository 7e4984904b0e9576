"""A run's result as a value: what the reports, the exit status and the gate's closing lines read.

`RunResult.of(run)` is made once, when the run has ended (the restore done, the transports closed): a
frozen record holding copies of what a `Run` changes (tallies, plans, stops, restores...), so nothing the
`Run` does later changes what its reports say, and a reader of the result needs nothing of the `Run`'s
machinery (targets, transports, the bundled server, signals). Not copied: the options, the profiles and the
traffic (only appended to while the run sends, and written once, as the HAR).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fpjs_conformance import behaviour, designated, observed
from fpjs_conformance import profile as profiles
from fpjs_conformance.model import printable
from fpjs_conformance.runstate import Exit

if TYPE_CHECKING:
    from fpjs_conformance.explore import Exploration
    from fpjs_conformance.ledger import ClauseTally
    from fpjs_conformance.options import Options
    from fpjs_conformance.profile import Profile
    from fpjs_conformance.traffic import Traffic


@dataclass(frozen=True)
class VersionResult:
    """What one version's target came to: its tallies per clause, its failures and SHOULD findings in order."""

    profile: Profile
    base_url: str  # as shown (no userinfo)
    tallies: dict[str, ClauseTally]
    failures: tuple[dict[str, Any], ...]
    warnings: tuple[dict[str, Any], ...]
    not_ready_budget: float
    first_violation: float | None  # time.monotonic() of the first violation that fails the run


@dataclass(frozen=True, repr=False)
class RunResult:
    """One ended run, as data. `versions` holds the versions that had a target, in the order they were built."""

    options: Options
    exploration: Exploration
    seed: str | None
    versions: dict[str, VersionResult]
    selected: dict[str, frozenset[str]]  # version -> clause ids collected
    judges_clients: bool  # a proxy session: the client clauses are reported too
    plans: dict[str, dict[str, Any]]  # version -> its coverage plan
    plans_ahead: dict[str, dict[str, Any]]  # version -> the estimate, before any request
    left_out: dict[str, frozenset[str]]  # version -> clauses the budget cut some coverage cases of
    stats: dict[str, dict[str, Any]]  # version -> the transport's figures
    transport_records: dict[str, dict[str, list]]  # version -> resends, errors, retried gateway pages
    restores: dict[str, dict[str, str]]  # version -> how the restore went
    journal: str | None  # the designated event's journal, and its original values
    original: dict[str, Any] | None
    left_open: tuple[Path, str] | None  # the journal the run leaves open, the version its values are read in
    version_stops: dict[str, dict[str, Any]]  # version -> why it was not judged
    stopped: str | None  # why the run (or a version of it) ended early
    stop_code: int | None
    stop_request: str | None  # a signal asked the run to stop
    timed_out: bool
    errors: dict[str, list[dict]]  # "version::clause" -> non-violation errors
    deviations: dict[str, Any] | None  # the known-deviations state (the gate's)
    behaviour: dict[str, Any]  # the behaviour snapshot (behaviour.json)
    drift: dict[str, Any] | None  # the snapshot against --baseline
    observed: dict[str, Any]  # version -> the contract surface it showed
    pages_retried: int  # intermediaries' 5xx pages the transport retried
    pages_failed: int  # of them, recorded as violations
    har: Traffic | None  # the traffic, when it was recorded (traffic.har)
    secrets: tuple[str, ...]  # everything the scrubber removes
    duration_s: float
    first_violation_s: float | None

    def __repr__(self) -> str:  # no options, no secrets
        return f"RunResult({', '.join(self.options.versions)})"

    @classmethod
    def of(cls, run: Any) -> RunResult:
        """The result of `run` (a `run.Run` that has ended), copied out of it."""
        targets = run.targets
        versions = {
            v: VersionResult(
                t.profile,
                t.base_url,
                copy.deepcopy(t.ledger.clauses),
                tuple(copy.deepcopy(t.ledger.failures)),
                tuple(copy.deepcopy(t.ledger.warnings)),
                t.transport.policy.not_ready_budget,
                getattr(t, "first_violation", None),
            )
            for v, t in targets.items()
        }
        left_out = {}
        for version, plan in run.plans.items():
            cut = set(plan["left_out"])
            cases = run.table(version) if cut else []
            left_out[version] = frozenset(c.clause_id for c in cases if c.id in cut)
        journal = run.event.journal
        judged = [v for v in run.options.versions if v in targets]
        snapshot = _behaviour(run)
        baseline = run.options.baseline_snapshot
        times = [r.first_violation for r in versions.values() if r.first_violation]
        pages = run.transients.events
        return cls(
            options=run.options,
            exploration=run.exploration,
            seed=run.seed,
            versions=versions,
            selected={v: frozenset(c) for v, c in run.selected.items()},
            judges_clients=run.judges_clients,
            plans=copy.deepcopy(run.plans),
            plans_ahead=copy.deepcopy(run.plans_ahead),
            left_out=left_out,
            stats={v: copy.deepcopy(run.stats.get(v) or t.transport.stats.as_dict()) for v, t in targets.items()},
            transport_records=copy.deepcopy(run.transport_records),
            restores=copy.deepcopy(run.restores),
            journal=str(journal.path) if journal is not None else None,
            original=copy.deepcopy(journal.data["original"]) if journal is not None else None,
            left_open=run.open_journal(),
            version_stops=copy.deepcopy(run.version_stops),
            stopped=run.stopped,
            stop_code=run.stop_code,
            stop_request=run.stop_request,
            timed_out=run.timed_out,
            errors=copy.deepcopy(run.errors),
            deviations=copy.deepcopy(run.deviations),
            behaviour=snapshot,
            drift=behaviour.compare(baseline, snapshot) if baseline is not None else None,
            observed={v: observed.surface(profiles.load(v), run.traffic.of(v)) for v in judged},
            pages_retried=len(pages),
            pages_failed=sum(i in run.transients.failed for i in range(len(pages))),
            har=run.traffic if run.options.traffic else None,
            secrets=tuple(run.secrets),
            duration_s=round(time.time() - run.started_at, 3),
            first_violation_s=round(min(times) - run.started, 3) if times else None,
        )

    @property
    def unrestored(self) -> bool:
        """The restore did not finish (`could not restore`): exit 10 (unless interrupted or failed), and the
        last line says so (`reporting.closing_lines`)."""
        return any(r.get("status") == designated.NOT_FINISHED for r in self.restores.values())

    def stopped_with(self, line: str, code: int) -> RunResult:
        """This result with one more reason the run stopped early, as `Run.stop_with` records one."""
        stopped, code = joined_stop(self.stopped, self.stop_code, line, code)
        return dataclasses.replace(self, stopped=stopped, stop_code=code)

    def failures(self) -> list[dict[str, Any]]:
        """Every version's failures, in the options' version order."""
        return [f for v in self.options.versions if v in self.versions for f in self.versions[v].failures]


def joined_stop(stopped: str | None, stop_code: int | None, line: str, code: int) -> tuple[str, int | None]:
    """Why a run stopped, one more printable line added; its code (a violation outranks any other)."""
    stopped = "; ".join(filter(None, (stopped, printable(line))))
    return stopped, code if stop_code is None or code == Exit.VIOLATED else stop_code


def _behaviour(run: Any) -> dict[str, Any]:
    """The behaviour snapshot of the versions judged (not those stopped in setup)."""
    observations = {}
    judged = {v: t for v, t in run.targets.items() if v in run.judged_versions}
    for version, target in judged.items():
        stats = target.transport.stats
        if any(stats.statuses.get(s) for s in target.profile.role("rate_limited").statuses):
            observations[version] = {"429-retry-after": stats.retry_after_seen > 0}
    return behaviour.snapshot({v: t.behaviour for v, t in judged.items()}, observations)
