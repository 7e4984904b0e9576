"""One connection to the target and what the transport knows of it: its httpx client, whose every connect,
read and write waits at most until the wall-clock end of the exchange in progress (a server that drips its
headers cannot stretch one request past its timeout), the last answer it carried, and whether the request
on it may change the designated event. The transport keeps one per thread that sends (`--connections`).
"""

from __future__ import annotations

import time

import httpcore
import httpx

from fpjs_conformance.limits import Policy
from fpjs_conformance.model import Exchange

USER_AGENT = "fpjs-update-event-conformance/0.3"


class Deadline:
    """The wall-clock end of the exchange in progress (None: none in progress)."""

    def __init__(self) -> None:
        self.at: float | None = None

    def left(self, timeout: float | None, expired: type[Exception]) -> float | None:
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise expired("the request's time is up")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline):
        self._stream, self._deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        left = self._deadline.left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left), self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: Deadline):
        self._backend, self._deadline = httpcore.SyncBackend(), deadline
        self.connects = 0  # TCP connections opened: a request that opened one did not go out on a kept one

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connects += 1
        left = self._deadline.left(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover - not used
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options), self._deadline)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore's retries are off
        self._backend.sleep(seconds)


class Connection:
    """One connection (kept alive between requests) and the exchange on it."""

    def __init__(self, policy: Policy):
        self._policy = policy
        self.deadline = Deadline()
        self.client = self._new_client()
        self.previous: Exchange | None = None  # the last answer on this connection
        self.previous_at = 0.0  # time.monotonic() when that answer was complete
        self.writing = False  # the request being sent may change the designated event
        self.attempts_out = 0  # attempts of the request being sent that went on the wire

    @property
    def connects(self) -> int:
        """TCP connections opened since the last `reset`: compared around an attempt, whether it went out on
        a kept-alive connection (the server may have closed an idle one cleanly, and httpx opened another)."""
        return self._backend.connects

    def _new_client(self) -> httpx.Client:
        pool = httpx.HTTPTransport(verify=self._policy.verify)
        self._backend = _DeadlineBackend(self.deadline)
        pool._pool._network_backend = self._backend  # every request bounded in wall-clock time
        return httpx.Client(
            transport=pool,
            timeout=httpx.Timeout(self._policy.timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        )

    def reset(self) -> None:
        """Drop the kept-alive connection: the next request starts on a fresh one."""
        self.client.close()
        self.client = self._new_client()
        self.previous = None

    def close(self) -> None:
        self.client.close()
