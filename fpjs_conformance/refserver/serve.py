"""Serve an ASGI app on loopback and announce the bound address on stdout.

The parent process (the suite, or the self-test harness) waits for the `READY <url>` line
instead of polling the port, so start-up needs no sleeps.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

import uvicorn

READY = "READY"
WATCH_PARENT = "FPJS_REF_WATCH_PARENT"  # set by the launcher: exit when stdin closes (the parent is gone)


def _exit_with_parent() -> None:
    """Block on stdin; EOF means the process that started us is gone, even if it was killed."""
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def serve(
    app, host: str = "127.0.0.1", port: int = 0, ssl_certfile: str | None = None, ssl_keyfile: str | None = None
) -> None:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only then, and without
    # it every response with a body waits ~40 ms on Nagle and delayed ACKs.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)  # connections queue here until uvicorn accepts them
    if os.environ.get(WATCH_PARENT):
        threading.Thread(target=_exit_with_parent, daemon=True).start()
    scheme = "https" if ssl_certfile else "http"
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"{READY} {scheme}://{bound_host}:{bound_port}", flush=True)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        timeout_keep_alive=30,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # pragma: no cover - interactive stop
        sys.exit(0)
