"""Run the contract suite as a user would: `python -m pytest --base-url=...` in a subprocess.

What the run found is read back from its reports (summary.json): records with fields, never the
terminal text parsed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Settings
from fpjs_conformance.refserver.launch import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
IDS = Settings()
SUITE = (sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q")  # the suite as a user runs it


@dataclass
class SuiteRun:
    returncode: int
    output: str  # stdout and stderr together
    report_dir: Path

    @property
    def summary(self) -> dict:
        """The run's summary.json (what the reports say, as data)."""
        path = self.report_dir / "summary.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def statuses(self, version: str) -> dict[str, str]:
        """Clause id -> status under `version`."""
        return {c["id"]: c["versions"][version]["status"] for c in self.summary.get("clauses", [])}

    def failed(self, version: str) -> list[str]:
        return [cid for cid, status in self.statuses(version).items() if status == "failed"]


def reference_server(
    api_key: str, *args: str, wrong_region_api_key: str | None = None, foreign_api_key: str | None = None
) -> ServerProcess:
    """The reference server (or `-m tests.variants NAME` via `args`) with throwaway keys, not yet started."""
    env = {"FPJS_REF_API_KEY": api_key, "PYTHONPATH": str(ROOT)}
    if wrong_region_api_key:
        env["FPJS_REF_WRONG_REGION_API_KEY"] = wrong_region_api_key
    if foreign_api_key:
        env["FPJS_REF_FOREIGN_API_KEY"] = foreign_api_key
    return ServerProcess([*(args or ("-m", "fpjs_conformance.refserver")), "--port", "0"], env=env)


@contextlib.contextmanager
def throwaway_reference_server(prefix: str) -> Iterator[tuple[ServerProcess, str, str]]:
    """A started reference server and its throwaway keys (key, wrong-region key), stopped afterwards.

    The keys go through the environment, not argv (argv is visible in `ps`)."""
    api_key, wrong = prefix + secrets.token_hex(12), prefix + "eu" + secrets.token_hex(12)
    with reference_server(api_key, wrong_region_api_key=wrong) as server:
        yield server, api_key, wrong


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the suite's own variables (a user's shell may have some)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FPJS_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cache compiled modules across the many runs
    return {**env, **extra}


def run_suite(
    base_url: str,
    api_key: str,
    report_dir: Path,
    *args: str,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    request_id: str | None = IDS.request_id,
) -> SuiteRun:
    """The suite against `base_url` with the reference server's ids; the key goes by env, as in CI."""
    cmd = [*SUITE, f"--base-url={base_url}"]
    if request_id is not None:
        cmd.append(f"--request-id={request_id}")
    cmd += [f"--report-dir={report_dir}", *args]
    full_env = clean_env(FPJS_API_KEY=api_key, **(env or {}))
    proc = subprocess.run(
        cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return SuiteRun(proc.returncode, proc.stdout + proc.stderr, report_dir)


def start_suite(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """The suite in the background (output merged), for tests that act while it runs."""
    return subprocess.Popen(
        [*SUITE, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def reap(proc: subprocess.Popen) -> None:
    """Kill a suite process still running (a test that failed midway) and collect it: none is left behind."""
    if proc.poll() is None:
        proc.kill()
        proc.communicate(timeout=30)


def wait_for_first_test(proc: subprocess.Popen, timeout: float = 240) -> str:
    """Until the coverage table has run (the event has been changed): the line that says the random
    examples come next, or pytest's first test mark (a run without random examples). The bound is generous: on a
    busy 2-core machine the table takes minutes, and the line is waited for, not slept for."""
    import re
    import select
    import time

    from fpjs_conformance.run import EXPLORING

    done = re.compile(r"(^|\n)([.sFE]|fpjs \[v\d+\]: .*" + re.escape(EXPLORING) + ")")
    # From the pipe itself, never through the text wrapper: what it buffers, select() does not see, and the
    # wait would last until the suite writes again (in a long random phase: its end).
    fd, raw, deadline = proc.stdout.fileno(), b"", time.monotonic() + timeout
    seen = ""
    while not done.search(seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        raw += chunk
        seen = raw.decode("utf-8", "replace")
    assert done.search(seen), f"the coverage table did not finish within {timeout}s: {seen[-500:]}"
    return seen


@dataclass
class Reference:
    """A started reference server with throwaway keys, and a plain read-back of an event (no SDK)."""

    server: ServerProcess
    api_key: str
    wrong_region_api_key: str
    version: ClassVar[str] = "v3"  # whose read-back `read_back` uses

    @property
    def url(self) -> str:
        return self.server.url

    def read_back(self, event_id: str = IDS.request_id) -> dict:
        """The event's stored fields, by a plain GET of the version's read-back."""
        import httpx

        p = profiles.load(self.version)
        place = p.key_places[0]
        value = f"{place.scheme} {self.api_key}" if place.scheme else self.api_key
        url = self.url + p.server_path + p.path_for(p.read_back_path, event_id)
        response = httpx.get(url, headers={place.field: value}, timeout=10)
        assert response.status_code == 200, response.text
        return p.stored(response.json())


def files_text(folder: Path) -> str:
    """Every file under `folder`, as text, for secret scans."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())
