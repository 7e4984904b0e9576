"""Playing a fault schedule (tests/fault_schedule.py): a fresh reference server with the schedule's key,
the fault front and a decoy front (another target) before it, the suite processes as a user starts
them, the post steps (a later writer, --collect-only, --restore-from of every journal left open, crafted
journals and HARs), and everything the invariants need: each process's output and exit code, the
fronts' logs, the event's states and the journals at each point (docs/safety.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fpjs_conformance import designated
from fpjs_conformance import profile as profiles
from fpjs_conformance.preflight import most_requests
from fpjs_conformance.refserver import Settings
from fpjs_conformance.runstate import Exit
from tests.fault_front import Directive, FaultFront, Seen
from tests.fault_schedule import (
    CRAFTED_ORIGINAL,
    HOLD_TIMEOUT,
    LATER,
    ORIGINALS,
    USER,
    CollectOnly,
    CraftedHar,
    CraftedJournal,
    Fault,
    Happened,
    Late,
    LaterWriter,
    Refuse,
    Schedule,
    SecondRun,
    Signal,
    Timeout,
    restore_from_codes,
)
from tests.runner import ROOT, SUITE, clean_env, reap, reference_server

IDS = Settings()
EVENT = IDS.request_id
OTHERS = tuple(s.event_id for s in IDS.seeded() if s.event_id != EVENT)  # real events no one designated
FOREIGN = {s.event_id for s in IDS.seeded() if s.workspace}  # of another workspace: read with its own key
OTHER = IDS.not_ready_request_id  # one of them, updatable (the backend answers it 409 zero times)
RUN_BOUND = 120  # seconds a suite run may take here, however busy the machine
STEP_BOUND = 45  # and a --restore-from, --collect-only or replay (a few seconds when all is well)
HELD_PAST = 1.5  # seconds past the run's latest possible deadline a held request is acted on (its restore is over)


@dataclass
class Proc:
    label: str
    popen: subprocess.Popen
    output: str = ""
    overran: bool = False  # still running after RUN_BOUND: killed by the harness

    @property
    def code(self) -> int | None:
        return self.popen.returncode


@dataclass
class Played:
    """What a schedule did: the processes, the front's logs, the event's states, the journals."""

    procs: dict[str, Proc] = field(default_factory=dict)
    happened: Happened = field(default_factory=Happened)
    seen: list[Seen] = field(default_factory=list)
    before_others: dict[str, dict] = field(default_factory=dict)
    after_others: dict[str, dict] = field(default_factory=dict)
    original: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)  # what the event should finally hold
    after_runs: dict = field(default_factory=dict)  # the event once the runs ended
    after_run: dict = field(default_factory=dict)  # the event once the run ended (before a second run after it)
    journals_after_runs: dict[Path, dict] = field(default_factory=dict)
    journals_final: dict[Path, dict] = field(default_factory=dict)
    second_expected: set[int] = field(default_factory=set)
    restore_from: list[tuple[str, Path, set[int]]] = field(default_factory=list)  # label, journal, codes
    final: dict = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    harness_files: list[Path] = field(default_factory=list)


class Play:
    """One schedule played in `tmp`: a fresh reference server (its key the schedule's), the fault front
    and a decoy front (another target) before it, the suite processes, the post steps."""

    def __init__(self, schedule: Schedule, tmp: Path):
        self.s, self.i, self.tmp = schedule, schedule.inputs, tmp
        self.out = Played()
        self.backend = reference_server(self.i.key, "-m", "fpjs_conformance.refserver", "--not-ready-updates", "0")
        self.front = FaultFront("", self.i.key, echo=self.i.echo, director=self.direct)
        self.decoy = FaultFront("", self.i.key, name="decoy")
        self.fired: set[int] = set()

    # -- the pieces --------------------------------------------------------------------------------
    def base(self, version: str, front: FaultFront | None = None) -> str:
        url = (front or self.front).url
        if self.i.password is not None and version == "v3":
            url = url.replace("http://", f"http://{USER}:{self.i.password}@")
        return url + profiles.load(version).server_path

    def read(self, event_id: str) -> dict:
        """The event's fields (store names, absent as what absent reads as), straight from the backend."""
        p = profiles.load("v3")
        place = p.key_places[0]
        url = self.backend.url + p.server_path + p.path_for(p.read_back_path, event_id)
        key = IDS.foreign_api_key if event_id in FOREIGN else self.i.key
        answer = httpx.get(url, headers={place.field: key}, timeout=10)
        assert answer.status_code == 200, (event_id, answer.status_code, answer.text[:300])
        return p.to_store({**p.absent_reads_as, **(p.stored(answer.json()) or {})})

    def write(self, values: dict) -> None:
        p = profiles.load("v3")
        place = p.key_places[0]
        url = self.backend.url + p.server_path + p.path_for(p.update_path, EVENT)
        httpx.request(p.update_method, url, headers={place.field: self.i.key}, json=p.to_wire(values), timeout=10)

    def start(self, label: str, args: list[str], *, key: str | None = None, module: tuple = ("-m", "pytest")) -> Proc:
        env = clean_env(FPJS_API_KEY=key or self.i.key, FAULT_FRONT_MARKER=self.front.url + "/__fault/restore")
        cmd = [SUITE[0], *module, *(SUITE[3:] if module == ("-m", "pytest") else ()), *args]
        popen = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: one that overruns is stopped with all it started
        )
        for front in (self.front, self.decoy):
            front.register(popen.pid, label)
        self.out.procs[label] = proc = Proc(label, popen)
        return proc

    def finish(self, proc: Proc) -> Proc:
        """Wait for the process (RUN_BOUND or STEP_BOUND at most: one still running then is killed with its
        process group, and marked as overrun)."""
        bound = RUN_BOUND if proc.label in ("run", "second") else STEP_BOUND
        try:
            proc.output += proc.popen.communicate(timeout=bound)[0]
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.output += proc.popen.communicate(timeout=30)[0] + f"\n[harness: killed after {bound}s]"
            proc.overran = True
        finally:
            reap(proc.popen)
        return proc

    def suite_args(self, version: str, report_dir: Path) -> list[str]:
        args = [
            f"--base-url={self.base(version)}",
            f"--request-id={EVENT}",
            f"--report-dir={report_dir}",
            "--hypothesis-profile=table",
            "-p",
            "tests.fault_marker",
        ]
        if self.s.run_timeout is not None:
            args.append(f"--run-timeout={self.s.run_timeout}")
        if self.s.request_timeout is not None:
            args.append(f"--request-timeout={self.s.request_timeout}")
        if self.i.log_file:
            args += [f"--log-file={report_dir.parent / (report_dir.name + '.log')}", "--log-file-level=DEBUG"]
        return args

    # -- the director: the front asks it about every request ---------------------------------------
    def direct(self, seen: Seen) -> Directive | None:
        phase = seen.phase if seen.sender == "run" else "restore-from" if seen.sender == "restore-from-0" else None
        if phase is None:
            return None
        h = self.out.happened
        if phase == "run":
            h.first_at = h.first_at or seen.arrived
        directive = Directive()
        for number, step in enumerate(self.s.steps):
            hit = isinstance(step, Fault | Signal) and (step.phase, step.n) == (phase, seen.index)
            hit |= isinstance(step, Refuse) and step.phase == phase and seen.index >= step.n
            hit |= phase == "run" and isinstance(step, Timeout | SecondRun) and step.at_request == seen.index
            hit |= phase == "run" and isinstance(step, Late) and seen.index % step.every == 0
            if not hit or (number in self.fired and not isinstance(step, Late | Refuse)):
                continue
            crowded = isinstance(step, Fault | Refuse) and directive.fault
            if crowded or (isinstance(step, SecondRun) and "second" in self.out.procs):
                continue  # one fault per request, one second run: a step that did not act did not fire
            self.fired.add(number)
            h.fired.append((step, seen))
            if isinstance(step, Fault | Refuse):
                directive.fault = step.kind
                directive.delay = 0.4 if step.kind == "delay" else directive.delay
            elif isinstance(step, Late):
                directive.delay = max(directive.delay, step.delay)
            elif isinstance(step, Timeout):
                directive.delay = max(directive.delay, h.first_at + HOLD_TIMEOUT + HELD_PAST - time.monotonic())
            elif isinstance(step, Signal):
                for name in step.names:
                    with contextlib.suppress(ProcessLookupError):
                        self.out.procs[seen.sender].popen.send_signal(getattr(signal, name))
            elif isinstance(step, SecondRun):
                self.second(step)
                if step.overlap:  # this request waits until the second run has read the event and written it back
                    self.front.wait_for("second", most_requests(profiles.load(self.i.version)), RUN_BOUND / 2)
        return directive

    def second(self, step: SecondRun) -> None:
        version = self.i.version if step.version == "same" else {"v3": "v4", "v4": "v3"}[self.i.version]
        folder = self.tmp / ("reports" if step.folder == "same" else "reports-2")
        self.start("second", self.suite_args(version, folder))

    # -- the schedule ------------------------------------------------------------------------------
    def play(self) -> Played:
        out, i = self.out, self.i
        out.secrets = {"key": i.key} | ({"password": i.password} if i.password else {})
        with self.backend, self.front, self.decoy:
            try:
                self.front.backend = self.decoy.backend = self.backend.url
                out.original = out.expected = dict(ORIGINALS[i.original])
                self.write(out.original)
                out.before_others = {e: self.read(e) for e in OTHERS}
                out.happened.popen_at = time.monotonic()
                run = self.start("run", self.suite_args(i.version, self.tmp / "reports"))
                together = [(n, s) for n, s in enumerate(self.s.steps) if isinstance(s, SecondRun) and s.at == 0]
                for number, step in together[:1]:
                    self.fired.add(number)
                    self.second(step)
                self.finish(run)
                out.happened.run_done = [x.done for x in self.front.sent_by("run") if x.phase == "run" and x.done]
                out.happened.marker_at = self.front.markers.get("run")
                out.after_run = self.read(EVENT)
                after = [s for s in self.s.of(SecondRun) if s.at is None]
                if after and "second" not in out.procs:
                    out.second_expected = self.expected_after(after[0])
                    self.second(after[0])
                elif "second" in out.procs:
                    out.second_expected = {Exit.OK, Exit.SETUP}  # together with the run: whichever comes second stops
                if "second" in out.procs:
                    self.finish(out.procs["second"])
                out.after_runs, out.journals_after_runs = self.read(EVENT), self.journals()
                self.post()
                out.final, out.journals_final = self.read(EVENT), self.journals()
                out.after_others = {e: self.read(e) for e in OTHERS}
            finally:
                for proc in out.procs.values():  # a schedule that went wrong midway leaves nothing running
                    if proc.popen.poll() is None:
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(proc.popen.pid, signal.SIGKILL)
                        reap(proc.popen)
        out.seen = self.front.log + self.decoy.log
        return out

    def expected_after(self, step: SecondRun) -> set[int]:
        """README: a later run that finds the unfinished journal in its folder, or leftovers of a run on the
        event, stops before it writes (a setup problem); else it judges (0)."""
        journal = designated.read(self.tmp / "reports" / designated.JOURNAL)
        unfinished = journal is not None and journal.get("state") not in designated.FINISHED
        leftovers = self.out.after_run != self.out.original
        return {Exit.SETUP} if leftovers or (unfinished and step.folder == "same") else {Exit.OK}

    def journals(self) -> dict[Path, dict]:
        """Every journal the runs left in their report folders (renamed-aside ones too)."""
        found = {path: designated.read(path) for path in sorted(self.tmp.glob("reports*/restore*.json"))}
        return {path: data for path, data in found.items() if data is not None}

    def open_journals(self) -> list[Path]:
        found = [
            (d.get("started_at") or "", p)
            for p, d in self.journals().items()
            if d.get("state") not in designated.FINISHED
        ]
        return [p for _, p in sorted(found, reverse=True)]  # the newest first: undo in reverse order

    def restore_args(self, journal: Path, version: str) -> list[str]:
        spelled = [f"--restore-from={journal}"] if self.i.restore_form == "equals" else ["--restore-from", str(journal)]
        target = [f"--base-url={self.base(version)}", f"--request-id={EVENT}"]  # README: the same target and event
        return [*spelled, *target, f"--report-dir={self.tmp / 'restore'}"]

    def post(self) -> None:
        out = self.out
        journal = self.tmp / "reports" / designated.JOURNAL
        if self.s.of(LaterWriter):
            self.write(LATER)
            out.expected = dict(LATER)
        if self.s.of(CollectOnly) and journal.is_file():
            self.finish(self.start("collect-only", ["--collect-only", *self.restore_args(journal, self.i.version)]))
        for n, path in enumerate(self.open_journals()):
            version = (designated.read(path) or {}).get("version") or self.i.version
            label = f"restore-from-{n}"
            self.finish(self.start(label, self.restore_args(path, version)))
            later = bool(self.s.of(LaterWriter))
            codes = restore_from_codes(self.out.happened, later) if n == 0 else {Exit.SETUP if later else Exit.OK}
            out.restore_from.append((label, path, codes))
        for kind in dict.fromkeys(step.kind for step in self.s.of(CraftedJournal)):
            self.crafted_journal(kind, journal)
        if self.s.of(CraftedHar) and (self.tmp / "reports" / "traffic.har").is_file():
            self.crafted_har(self.tmp / "reports" / "traffic.har")

    def crafted_journal(self, kind: str, journal: Path) -> None:
        data = designated.read(journal) or {
            "format": designated.FORMAT,
            "event_id": EVENT,
            "version": self.i.version,
            "targets": {self.i.version: self.base(self.i.version)},
            "original": self.out.original,
            "sent": {},
        }
        data = {**data, "state": "open"}
        if kind == "event":
            data["event_id"] = OTHER
        elif kind == "target":
            data.update(targets={data["version"]: self.base(data["version"], self.decoy)}, original=CRAFTED_ORIGINAL)
        path = self.tmp / f"crafted-{kind}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        self.out.harness_files.append(path)
        key = "other" + os.urandom(10).hex() if kind == "key" else None
        if key:
            self.out.secrets["other key"] = key
        label = f"crafted-journal-{kind}"
        self.finish(self.start(label, self.restore_args(path, data["version"]), key=key))

    def crafted_har(self, har: Path) -> None:
        data = json.loads(har.read_text(encoding="utf-8"))
        for entry in data["log"]["entries"]:
            request = (entry.get("_fpjs") or {}).get("request") or {}
            if isinstance(request.get("event"), dict) and request["event"].get("id") == EVENT:
                request["event"] = {"id": OTHER}
                entry["request"]["url"] = entry["request"]["url"].replace(EVENT, OTHER)
        path = self.tmp / "crafted.har"
        path.write_text(json.dumps(data), encoding="utf-8")
        self.out.harness_files.append(path)
        args = ["replay", str(path), f"--base-url={self.base(self.i.version)}", f"--request-id={EVENT}"]
        self.finish(
            self.start(
                "crafted-har", [*args, f"--report-dir={self.tmp / 'replay'}"], module=("-m", "fpjs_conformance.cli")
            )
        )
