"""The canary scan (run by .ci/run): a run of the suite writes no part of the key anywhere.

A server that echoes keys back (the `wrong-key-echoed` variant) and a base URL with a password, with
every output pytest can be asked for: `--log-file` at DEBUG (httpx logs each URL), `--debug` (pluggy's
trace), `-l --full-trace` (locals in tracebacks), `--junitxml`, and the suite's own reports (HAR, junit,
the journal). The key and the password are canaries: no run of 12 of their characters may appear in
the terminal output or any file written. Prints one line; exits 1 on a find.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = 12  # characters of a canary that must never appear together


def exposed(text: str, canary: str) -> bool:
    return any(canary[i : i + RUN] in text for i in range(len(canary) - RUN + 1))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from fpjs_conformance.refserver.launch import ServerProcess

    key = "canaryKey" + secrets.token_hex(16)
    password = "canaryPw" + secrets.token_hex(12)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        args = ["-m", "tests.variants", "wrong-key-echoed", "--port", "0"]
        with ServerProcess(args, env={"FPJS_REF_API_KEY": key, "PYTHONPATH": str(ROOT)}) as server:
            base = server.url.replace("http://", f"http://user:{password}@")
            env = {k: v for k, v in os.environ.items() if not k.startswith("FPJS_")}
            env["FPJS_API_KEY"] = key
            cmd = [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                "-l",
                "--full-trace",
                f"--base-url={base}",
                "--request-id=1708102555327.NLOjmg",
                "--hypothesis-profile=ci",
                f"--report-dir={out / 'reports'}",
                f"--log-file={out / 'pt.log'}",
                "--log-file-level=DEBUG",
                f"--debug={out / 'dbg.log'}",
                f"--junitxml={out / 'pytest.xml'}",
            ]
            run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        said = run.stdout + run.stderr
        files = {p: p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()}
        for name, canary in (("key", key), ("password", password)):
            where = [str(p.relative_to(out)) for p, text in files.items() if exposed(text, canary)]
            where += ["terminal output"] if exposed(said, canary) else []
            if where:
                print(f"canary scan: the {name} appears in {', '.join(where)}")
                return 1
        if run.returncode != 1 or not files.get(out / "reports" / "traffic.har"):
            print(f"canary scan: the run did not fail on the echoing server as it should (exit {run.returncode})")
            print(said[-2000:])
            return 1
    print(f"canary scan: no part of the key or the password in the output or in {len(files)} files written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
