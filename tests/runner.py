"""Run the contract suite as a user would: `python -m pytest --base-url=...` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from refserver import Settings
from refserver.launch import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
IDS = Settings()


@dataclass
class SuiteRun:
    returncode: int
    output: str  # stdout and stderr together
    report_dir: Path


def reference_server(api_key: str, *args: str, wrong_region_api_key: str | None = None) -> ServerProcess:
    """The reference server (or `-m tests.variants NAME` via `args`) with throwaway keys, not yet started."""
    env = {"FPJS_REF_API_KEY": api_key, "PYTHONPATH": str(ROOT)}
    if wrong_region_api_key:
        env["FPJS_REF_WRONG_REGION_API_KEY"] = wrong_region_api_key
    return ServerProcess([*(args or ("-m", "refserver")), "--port", "0"], env=env)


def run_suite(
    base_url: str, api_key: str, report_dir: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> SuiteRun:
    """The suite against `base_url` with the reference server's ids; the key goes by env, as in CI."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--base-url={base_url}",
        f"--request-id={IDS.request_id}",
        f"--report-dir={report_dir}",
        *args,
    ]
    full_env = {**os.environ, "FPJS_API_KEY": api_key, **(env or {})}
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)  # cache compiled modules across the many runs
    proc = subprocess.run(
        cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return SuiteRun(proc.returncode, proc.stdout + proc.stderr, report_dir)


def files_text(folder: Path) -> str:
    """Every file under `folder`, as text, for secret scans."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())
