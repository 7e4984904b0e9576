"""Judge a variant from this process: the variant served by uvicorn in a thread on loopback, the suite run
through the library (`fpjs_conformance.inprocess.judge`) over real HTTP, as a `SuiteRun` that
`harness.judge` reads exactly as it reads a subprocess's.

No Python start-up, import or pytest collection per variant: that is what made the self-test slow. What
a subprocess gives for free is checked here instead: the run must leave this process as it found it (its
signal handlers, the log record factory, pytest's repr function, its threads and open files), or the
outcome says what it left behind.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from fpjs_conformance import inprocess, options
from fpjs_conformance.refserver import Settings
from tests.runner import ROOT, SuiteRun
from tests.variants import Variant

STOP_BOUND = 10.0  # seconds the server thread may take to stop once its clients are gone


@contextlib.contextmanager
def served(variant: Variant, api_key: str, wrong_region_api_key: str, foreign_api_key: str) -> Iterator[str]:
    """The variant on 127.0.0.1 (a free port) in a thread of this process; its root URL. As
    `python -m tests.variants NAME --port 0 --api-key K --wrong-region-api-key W` serves it (refserver/serve.py):
    the socket listens before uvicorn starts, so requests queue in its backlog and no wait is needed."""
    settings = Settings(api_key=api_key, wrong_region_api_keys=(wrong_region_api_key,), foreign_api_key=foreign_api_key)
    # IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then (else ~40 ms per answer on Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        variant.server(settings).app(),
        log_config=None,  # no logging.config.dictConfig per variant: uvicorn's records go to the root logger
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=2,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"variant {variant.name}")
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_BOUND)
        if thread.is_alive():  # a connection the run left open: stop waiting for it
            server.force_exit = True
            thread.join(STOP_BOUND)
        sock.close()


class _Said(logging.Handler):
    """Every log record the run's own thread makes, as text (the server thread's are the server's, as a
    server process's log is not the suite's output)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def state() -> dict[str, object]:
    """What a run in this process could leave changed for the next one."""
    from _pytest._code import code

    return {
        "signal handlers": {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)},
        "log record factory": logging.getLogRecordFactory(),
        "pytest's repr": code.saferepr,
        "threads": set(threading.enumerate()),
        "open files": _open_files(),
    }


def _open_files() -> set[tuple[str, str]]:
    fds = Path("/proc/self/fd")
    out = set()
    for fd in fds.iterdir() if fds.is_dir() else ():
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            out.add((fd.name, os.readlink(fd)))
    return out


def left_behind(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """What changed; of the threads and open files, only those the run added (garbage of an earlier test
    collected meanwhile is not the run's). A file or socket found open is looked at again after a garbage
    collection: an object in a reference cycle closes its descriptor only then."""

    def changed(name: str, now: dict[str, object]) -> bool:
        if isinstance(before[name], set):
            return bool(now[name] - before[name])
        return now[name] != before[name]

    if any(changed(name, after) for name in before):
        gc.collect()
        after = state()
    return [
        f"{name} {sorted(map(str, after[name] - before[name]))}" if isinstance(before[name], set) else name
        for name in before
        if changed(name, after)
    ]


def run_suite(
    variant: Variant,
    options_for: Callable[[str], dict[str, str | bool]],
    api_key: str,
    wrong_region_api_key: str,
    foreign_api_key: str,
    exitfirst: bool = False,
) -> tuple[SuiteRun, list[str]]:
    """The suite against `variant` in this process, with the options a user would give (`options_for(url)`:
    dest -> value, as `harness.suite_options` makes them; the keys apart; `exitfirst` for `-x`); the run,
    and what it left behind."""
    before = state()
    said, out = _Said(), io.StringIO()
    root = logging.getLogger()
    root.addHandler(said)
    try:
        with served(variant, api_key, wrong_region_api_key, foreign_api_key) as url:
            keys = {
                "api_key": api_key,
                "wrong_region_api_key": wrong_region_api_key,
                "foreign_api_key": foreign_api_key,
            }
            given = {**options_for(url), **keys}
            opts = options.parse(given.get, ROOT)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                run, status = inprocess.judge(opts, exitfirst=exitfirst)
        if run.stop_request:  # a signal to this worker (Ctrl-C): it stops the session, not just the run
            raise KeyboardInterrupt(run.stop_request)
    finally:
        root.removeHandler(said)
    output = out.getvalue() + "\n".join(said.lines)
    return SuiteRun(status, output, opts.report_dir), left_behind(before, state())
