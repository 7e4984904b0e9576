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

from fpjs_conformance.refserver import Settings
from fpjs_conformance.refserver.launch import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
IDS = Settings()


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


def reference_server(api_key: str, *args: str, wrong_region_api_key: str | None = None) -> ServerProcess:
    """The reference server (or `-m tests.variants NAME` via `args`) with throwaway keys, not yet started."""
    env = {"FPJS_REF_API_KEY": api_key, "PYTHONPATH": str(ROOT)}
    if wrong_region_api_key:
        env["FPJS_REF_WRONG_REGION_API_KEY"] = wrong_region_api_key
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
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--base-url={base_url}"]
    if request_id is not None:
        cmd.append(f"--request-id={request_id}")
    cmd += [f"--report-dir={report_dir}", *args]
    full_env = clean_env(FPJS_API_KEY=api_key, **(env or {}))
    proc = subprocess.run(
        cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return SuiteRun(proc.returncode, proc.stdout + proc.stderr, report_dir)


def files_text(folder: Path) -> str:
    """Every file under `folder`, as text, for secret scans."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())
