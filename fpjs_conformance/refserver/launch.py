"""Start a server process (the reference server or a variant) and stop it by PID."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import tempfile
import time

from fpjs_conformance.refserver.serve import READY, WATCH_PARENT


class LaunchError(RuntimeError):
    pass


class ServerProcess:
    """`python -m <module> --port 0 ...` in a child process; `.url` once it printed READY."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, ready_timeout: float = 30.0):
        self.args = [sys.executable, *args]
        # The child exits when this process goes away, however it goes (its stdin pipe closes).
        self.env = {**os.environ, **(env or {}), WATCH_PARENT: "1"}
        self.ready_timeout = ready_timeout
        self.url = ""
        self.proc: subprocess.Popen | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process

    def start(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=self._stderr, env=self.env, stdin=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.ready_timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
        sel.close()
        text = line.decode(errors="replace").strip()
        if not text.startswith(READY):
            self.stop()
            raise LaunchError(f"server did not start ({' '.join(self.args[1:3])}): {text or self.stderr()[-500:]}")
        self.url = text.split()[1]
        return self

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
