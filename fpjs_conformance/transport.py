"""The one request path: every request the suite sends goes through `Transport.send`.

It puts a symbolic request on the wire with the codec (`codec.Codec.encode`: path, method, where and how
the key goes, the real key in at the last moment), paces requests, and bounds every wait: the request
timeout, the run's deadline (inside pacing and retry waits too), the request budget, the body
cap on the decoded size (a gzip bomb stays harmless), and bounded 429, 409 and gateway retries. Its
`Exchange` carries `$FPJS_API_KEY` instead of the key in the URL, headers and replay line.

Each thread that sends has a connection of its own (`connection.Connection`). A request the write gate lets
overlap others goes out on another one (`submit`, at most `--connections` at once); the send slots and the
budgets are still taken one request at a time, and the figures the connections share are kept under a lock.
"""

from __future__ import annotations

import ssl
import threading
import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for

import h11
import httpx

from fpjs_conformance.codec import Built, Codec
from fpjs_conformance.connection import Connection
from fpjs_conformance.content import ContentDecoder
from fpjs_conformance.keys import Secrets
from fpjs_conformance.limits import GATEWAY_STATUSES, TRANSIENT_STATUSES, Budget, Policy, Stats, not_ready_waits
from fpjs_conformance.model import READ, Exchange, Request
from fpjs_conformance.profile import Profile


class RunTimedOut(Exception):
    """The run's deadline passed, inside a wait: the run stops."""


def intermediary(ex: Exchange) -> bool:
    """A 502, 503 or 504 whose body is not the API's JSON error: an intermediary's page (a load balancer's
    HTML), which may pass. An API-shaped 5xx is the API's own answer, judged as it is."""
    return ex.status in GATEWAY_STATUSES and ex.error_code() is None


class Flight:
    """A request handed to another connection (`Transport.submit`): the future of its `Exchange`, and how many
    of its attempts went on the wire (none: a stop kept it from going out)."""

    def __init__(self) -> None:
        self.future: Future = Future()
        self.attempts_out = 0

    def wait(self) -> None:
        """Until it was answered (or failed); an interrupt meanwhile leaves it in flight."""
        wait_for([self.future])


def _on_connection(name: str) -> property:
    """An attribute of this thread's connection (`Connection`)."""
    return property(lambda self: getattr(self._connection, name), lambda self, v: setattr(self._connection, name, v))


class Transport:
    _previous = _on_connection("previous")
    _previous_at = _on_connection("previous_at")
    _writing = _on_connection("writing")
    attempts_out = _on_connection("attempts_out")  # attempts of this thread's request that went on the wire

    def __init__(
        self,
        profile: Profile,
        base_url: str,
        secrets: Secrets,
        policy: Policy | None = None,
        budgets: tuple[Budget, ...] = (),
    ):
        self.profile = profile
        self.base_url = base_url.rstrip("/")
        self.codec = Codec(profile, secrets, self.base_url)
        self.shown_base_url = self.codec.shown_base_url
        self.secrets = secrets
        self.policy = policy or Policy()
        self.budgets = budgets
        self.stats = Stats()
        self.consecutive_failures = 0
        self.failures = 0
        self.resends: list[dict] = []  # every request sent again on a fresh connection, and why
        self.errors: list[dict] = []  # every request that got no usable answer, and why
        self._lock = threading.Lock()  # the send slots and the budgets: one request at a time takes them
        self._book = threading.Lock()  # the figures and records the connections share
        self._next_slot = 0.0
        self._local = threading.local()  # this thread's connection
        self._connections: list[Connection] = []
        self._pool: ThreadPoolExecutor | None = None  # the other connections (`submit`), made on first use
        self._writes_in_flight = 0  # requests on the wire now that may change the designated event

    def __repr__(self) -> str:
        return f"Transport({self.profile.version} {self.shown_base_url})"

    @property
    def _connection(self) -> Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = Connection(self.policy)
            with self._book:
                self._connections.append(connection)
        return connection

    @property
    def in_flight_write(self) -> bool:
        """A request that may change the designated event is on the wire now: a signal waits for its answer."""
        return self._writes_in_flight > 0

    def close(self) -> None:
        """Wait for the requests still on the wire (each within its timeout), then close every connection."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for connection in list(self._connections):
            connection.close()

    def submit(self, request: Request, *, write: bool = False) -> Flight:
        """Send `request` on another connection (at most `Policy.connections` at once), after `prepay` took its
        budget. For requests that may be on the wire beside others (the write gate says which)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max(1, self.policy.connections), thread_name_prefix="fpjs-send")
        flight = Flight()
        flight.future = self._pool.submit(self._fly, flight, request, write)
        return flight

    def _fly(self, flight: Flight, request: Request, write: bool) -> Exchange:
        try:
            return self.send(request, write=write, paid=True)
        finally:
            flight.attempts_out = self.attempts_out

    def prepay(self) -> None:
        """Take a request's first attempt from every budget now, in the caller's order (a stop request stops
        it here): with requests in flight, the budget cuts exactly where sending one after another would."""
        self._check_stop(False)
        with self._lock:
            for budget in self.budgets:
                budget.take(False)

    def budget_left(self) -> int | None:
        """Requests any budget still allows (None: no budget)."""
        lefts = [b.left for b in self.budgets if b.left is not None]
        return min(lefts) if lefts else None

    @property
    def unreachable(self) -> bool:
        p = self.policy
        return self.consecutive_failures >= p.max_consecutive_failures or self.failures >= p.max_failures

    # -- sending ----------------------------------------------------------------------------------
    def _run_deadline(self, reserved: bool) -> float | None:
        """When the run must stop: its deadline, or for the restore's requests the grace after it."""
        deadline = self.policy.deadline
        return None if deadline is None else deadline + (self.policy.grace if reserved else 0.0)

    def _check_stop(self, reserved: bool) -> None:
        """A safe point: a signal that asked the run to stop stops it here (never the restore)."""
        why = None if reserved else self.policy.stop_requested()
        if why:
            raise KeyboardInterrupt(why)

    def _wait(self, seconds: float, reserved: bool = False) -> None:
        """Sleep, unless the run's deadline comes first; a stop request ends the wait."""
        deadline = self._run_deadline(reserved)
        if deadline is not None and time.monotonic() + seconds > deadline:
            raise RunTimedOut(f"the run timeout passes before the next request could be sent (wait {seconds:.1f}s)")
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._check_stop(reserved)
            time.sleep(min(left, 0.1))

    def settle(self, seconds: float) -> None:
        """The restore's wait for a write that got no answer (within the restore's own deadline)."""
        self._wait(seconds, reserved=True)

    def _pace(self, reserved: bool, paid: bool = False) -> None:
        """Take a request from every budget (unless `prepay` did) and wait for the next send slot (counted from
        actual send times; one slot at a time, whichever connection asks)."""
        self._check_stop(reserved)
        interval = 1.0 / self.policy.rate_limit if self.policy.rate_limit else 0.0
        with self._lock:
            if not paid:
                for budget in self.budgets:
                    budget.take(reserved)
            self._wait(self._next_slot - time.monotonic(), reserved)
            now = time.monotonic()
            self._next_slot = now + interval
            self.stats.sent += 1
            self.stats.send_times.append(now)

    def _timeout(self, reserved: bool) -> float:
        """The time the next attempt may take: the request timeout, cut to the deadline, except a write's:
        once sent, a write is awaited to its answer (the write gate's rule), so none lands after the restore."""
        deadline = self._run_deadline(reserved)
        if deadline is None:
            return self.policy.timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise RunTimedOut("the run timeout passed")
        return self.policy.timeout if self._writing else min(self.policy.timeout, left)

    def _once(self, built: Built, ex: Exchange, reserved: bool) -> str | None:
        """One attempt, bounded in wall-clock time. When no answer came on the connection:
        "unparsable" (bytes that are not HTTP), "reset" (the connection was reset or broken under the
        request: the server closed it before it read the request), or "closed" (the connection ended
        without an answer); otherwise None. An attempt whose time was cut short by the run's (or the
        restore's) deadline and ran out raises RunTimedOut: the deadline is the run's, not the server's
        fault (it had the whole request timeout)."""
        lost: str | None = None
        late = False  # no complete answer in time
        started = time.monotonic()
        timeout = self._timeout(reserved)
        cut = timeout < self.policy.timeout  # the run's deadline comes before the request timeout
        deadline = started + timeout
        connection = self._connection
        connection.deadline.at = deadline
        ex.status, ex.response_headers, ex.body, ex.error = None, {}, b"", None
        writing = connection.writing
        with self._book:
            self._writes_in_flight += writing
        connection.attempts_out += 1
        try:
            request = connection.client.build_request(
                built.method, built.url, headers=built.headers, content=built.body, timeout=timeout
            )
            for name in built.omit:
                request.headers.pop(name, None)
            response = connection.client.send(request, stream=True)
            try:
                ex.status = response.status_code
                ex.response_headers = {k.lower(): v for k, v in response.headers.items()}
                ex.body, ex.error = self._read_body(response, deadline)
                late = ex.error is not None and time.monotonic() > deadline
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            late = True
            if ex.status is not None:  # the head came, the body did not
                ex.error = f"response body not complete after {timeout:g}s ({type(exc).__name__})"
            else:
                ex.error = f"timed out after {timeout:g}s ({type(exc).__name__})"
        except httpx.RemoteProtocolError as exc:
            ex.error, lost = _one_line(exc), "unparsable" if _parse_failed(exc) else "closed"
        except (httpx.ReadError, httpx.WriteError) as exc:
            ex.error, lost = _one_line(exc), "reset"  # the connection was closed on the request, unread
        except httpx.HTTPError as exc:
            ex.error = _one_line(exc)
        except ssl.SSLError as exc:  # pragma: no cover - httpx normally wraps these
            ex.error = f"TLS error: {_one_line(exc)}"
        finally:
            connection.deadline.at = None
            with self._book:
                self._writes_in_flight -= writing
        if cut and late:
            self._reset()
            raise RunTimedOut("the run timeout passed while a request waited for its answer")
        ex.elapsed = time.monotonic() - started
        # Judged as it came: scrubbing what the server said would bend it (a key may equal a field name).
        # Only the copy excerpts are cut from is scrubbed now; whatever is written is scrubbed where it leaves.
        ex.shown_body = self.secrets.scrub_bytes(ex.body)
        if ex.error:
            ex.status = None
            self._tally("transport_errors")
        else:
            with self._book:
                self.stats.statuses[ex.status] += 1
        return lost

    def _tally(self, name: str) -> None:
        """Count one on a figure of `Stats` (the connections share them)."""
        with self._book:
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    def _read_body(self, response: httpx.Response, deadline: float) -> tuple[bytes, str | None]:
        """The body, gzip and deflate undone, capped at `max_body` decoded bytes; or why it stopped."""
        cap = self.policy.max_body
        decoder = ContentDecoder(response.headers.get("content-encoding", ""))
        chunks, size = [], 0
        try:
            for chunk in response.iter_raw():
                data = decoder.feed(chunk, cap - size + 1)
                chunks.append(data)
                size += len(data)
                if size > cap or decoder.overflowed:
                    return b"".join(chunks)[:cap], f"response body larger than the {cap}-byte cap"
                if time.monotonic() > deadline:
                    return b"".join(chunks), f"response body not complete after {self.policy.timeout:g}s"
            chunks.append(decoder.flush(cap - size + 1))
        except zlib.error as exc:
            return b"".join(chunks), f"response body is not valid {decoder.encoding}: {exc}"
        body = b"".join(chunks)
        if len(body) > cap:
            return body[:cap], f"response body larger than the {cap}-byte cap"
        return body, None

    def send(self, request: Request, *, reserved: bool = False, write: bool = False, paid: bool = False) -> Exchange:
        """Send `request` (retrying 429 and 409 not-ready within bounds) and record what came back.

        `reserved`: one of the restore's requests (its own budget reserve and deadline; no stop request
        interrupts it). `write`: it may change the designated event (the write gate says so): each attempt,
        once sent, is awaited to its answer within the request timeout, whatever deadline passes meanwhile.
        `paid`: `prepay` took its first attempt from the budgets.
        """
        self._writing, self.attempts_out = write, 0
        try:
            return self._send(request, reserved, paid)
        finally:
            self._writing = False

    def _send(self, request: Request, reserved: bool, paid: bool) -> Exchange:
        built = self.codec.encode(request)
        ex = Exchange(request, built.method, built.shown_url, built.shown_headers, version=self.profile.version)
        ex.curl = self.codec.curl(built, self.policy.timeout)
        rate_limited = 0
        backoff = iter(not_ready_waits(self.policy.not_ready_budget))
        not_ready_since: float | None = None
        transient = iter(self.policy.restore_backoff if reserved else ())
        attempts = 0
        while True:
            attempts += 1
            self._pace(reserved, paid and attempts == 1)
            started, connects = time.monotonic(), self._connection.connects
            lost = self._once(built, ex, reserved)
            if lost and self._previous is not None and self._connection.connects == connects:
                self._lost_on_kept_connection(built, ex, lost, started, reserved)
            if ex.status is not None:
                ex.statuses.append(ex.status)
            limited = ex.status in self.profile.role("rate_limited").statuses
            if limited and "retry-after" in ex.response_headers:
                self._tally("retry_after_seen")
            if limited and rate_limited < self.policy.max_429_retries:
                rate_limited += 1
                self._tally("retries_429")
                ex.tries.append(_snapshot(ex))
                self._wait(min(_retry_after(ex.response_headers), self.policy.max_retry_after), reserved)
                continue
            if request.op != READ and self.profile.role("not_ready").allows(ex.status, ex.error_code()):
                not_ready_since = started if not_ready_since is None else not_ready_since
                wait = next(backoff, None)
                if wait is not None:
                    self._tally("retries_409")
                    ex.tries.append(_snapshot(ex))
                    self._wait(wait, reserved)
                    continue
                self._tally("not_ready_unclear")
                not_ready_since = None
            if ex.gateway is None and intermediary(ex):  # a proxy's page, not the API's answer: once more
                self._tally("retries_gateway")
                ex.gateway = _snapshot(ex)
                ex.tries.append(ex.gateway)
                self._wait(self.policy.gateway_wait, reserved)
                continue
            if ex.error is not None or ex.status in TRANSIENT_STATUSES:
                # The restore's own request: a reset, a timeout or a gateway's 5xx is tried again within its
                # reserve (a write-back sent twice sets the same values).
                wait = next(transient, None)
                if wait is not None:
                    ex.tries.append(_snapshot(ex))
                    self._reset()
                    self._wait(wait, reserved)
                    continue
            break
        ex.attempts = attempts
        # A 429 that outlasted every wait counts as no answer: a target that only rate-limits ends the run too.
        failed = ex.error is not None or ex.status in self.profile.role("rate_limited").statuses
        with self._book:
            if not_ready_since is not None:
                self.stats.not_ready.append(time.monotonic() - not_ready_since)
            self.failures += failed
            self.consecutive_failures = self.consecutive_failures + 1 if failed else 0
            if ex.error:
                self.errors.append({"request": ex.describe_request(), "error": ex.error, "curl": ex.curl})
        if ex.error:
            self._reset()
        else:
            self._previous, self._previous_at = ex, time.monotonic()
        return ex

    def _lost_on_kept_connection(self, built: Built, ex: Exchange, lost: str, started: float, reserved: bool) -> None:
        """No answer came on a kept-alive connection. Stray bytes after the previous answer broke the
        read (that answer is at fault); or the server closed the connection as the request went out,
        which RFC 9112 (9.3.1, 9.5) allows when it was idle long enough to reach the server's
        keep-alive timeout. Either way the request is sent once more on a fresh connection (this
        operation sets absolute values: twice is once, as UE-SEM-04 checks). A connection closed
        sooner, or a second time in a run, without a reset (the server had read the request), is a
        dropped request: recorded for UE-TRANSPORT-01."""
        idle = started - self._previous_at
        if lost == "unparsable":
            ex.stray_after, kind = self._previous, "stray bytes"
        elif lost == "reset":
            kind = "closed before the request was read"
        elif idle >= self.policy.race_idle and not any(r["kind"] == "keep-alive race" for r in self.resends):
            kind = "keep-alive race"
        else:
            kind = "dropped"
            ex.dropped = Exchange(
                ex.request, ex.method, ex.url, ex.headers, error=ex.error, version=ex.version, curl=ex.curl
            )
            ex.dropped.elapsed = ex.elapsed
        why = f"{kind}: {ex.error} ({idle:.2f}s after the previous answer on the connection)"
        with self._book:
            self.resends.append({"request": ex.describe_request(), "kind": kind, "why": why})
        if ex.dropped is not None:
            ex.dropped.error = why
        lost = ex.dropped or _snapshot(ex)
        lost.error = why
        ex.tries.append(lost)
        self._reset()
        self._pace(reserved)
        self._once(built, ex, reserved)

    def _reset(self) -> None:
        """Drop this thread's kept-alive connection: its next request starts on a fresh one."""
        self._connection.reset()


def _snapshot(ex: Exchange) -> Exchange:
    """A try of a request as it came back, kept before the request is sent again."""
    kept = Exchange(ex.request, ex.method, ex.url, ex.headers, ex.status, dict(ex.response_headers), ex.body, ex.error)
    kept.shown_body = ex.shown_body
    kept.elapsed, kept.curl, kept.version = ex.elapsed, ex.curl, ex.version
    return kept


def _retry_after(headers: dict[str, str], now: float | None = None) -> float:
    """Seconds to wait from Retry-After (RFC 9110 10.2.3: delay-seconds or an HTTP-date); 1 s when
    absent or unreadable."""
    from email.utils import parsedate_to_datetime

    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return 1.0
    return max(0.0, when - (time.time() if now is None else now))


def _parse_failed(exc: BaseException) -> bool:
    """Whether the HTTP parser refused bytes that came (rather than the connection closing first)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, h11.RemoteProtocolError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]
