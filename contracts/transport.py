"""The one request path: every request the suite sends goes through `Transport.send`.

It puts the real key in at the last moment, paces requests, bounds every wait (timeout, body
cap, 429 and 409 retries), and records an `Exchange` whose URL, headers and replay line carry
`$FPJS_API_KEY` instead of the key.
"""

from __future__ import annotations

import ipaddress
import shlex
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

import httpx

from contracts import spec
from contracts.model import NEAR_MISSES, Exchange, Key, Request

API_KEY_VAR = "FPJS_API_KEY"
WRONG_REGION_VAR = "FPJS_WRONG_REGION_API_KEY"


@dataclass(frozen=True)
class Secrets:
    api_key: str
    wrong_region_api_key: str | None = None

    def value(self, key: Key) -> tuple[str, str]:
        """(real value, replay form) of a symbolic key."""
        if key.kind == "valid":
            return self.api_key, f"${{{API_KEY_VAR}}}"
        if key.kind == "wrong_region":
            if self.wrong_region_api_key is None:
                raise LookupError("--wrong-region-api-key was not given")
            return self.wrong_region_api_key, f"${{{WRONG_REGION_VAR}}}"
        if key.kind == "empty":
            return "", ""
        if key.kind == "near":
            value, shell = NEAR_MISSES[key.variant](self.api_key, API_KEY_VAR)
            if value == self.api_key:  # e.g. swap-case of a key without letters
                value, shell = NEAR_MISSES["append-char"](self.api_key, API_KEY_VAR)
            return value, shell
        return key.variant, key.variant

    def scrub(self, text: str) -> str:
        return scrub(text, [self.api_key, self.wrong_region_api_key or ""])


SECRET = "[secret]"


def scrub(text: str, secrets: list[str]) -> str:
    """Last line of defence: replace every secret, and every near-miss the suite derives from one."""
    found: set[str] = set()
    for secret in secrets:
        if len(secret) >= 4:
            found.add(secret)
            found.update(mutate(secret, API_KEY_VAR)[0] for mutate in NEAR_MISSES.values())
    for value in sorted((v for v in found if len(v) >= 4), key=len, reverse=True):
        text = text.replace(value, SECRET)
    return text


@dataclass
class Policy:
    """Every bound on the conversation with the target."""

    timeout: float = 10.0  # seconds per request (connect, each read, and the whole body)
    max_body: int = 1024 * 1024  # bytes read from a response before it is cut off
    rate_limit: float | None = None  # requests per second; None: unpaced
    max_429_retries: int = 5
    max_retry_after: float = 30.0
    not_ready_backoff: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
    verify: ssl.SSLContext | bool = True


def is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system trust store, or the given CA bundle (httpx alone would use certifi's store)."""
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()


@dataclass
class Stats:
    """What the run cost: requests, retries, statuses, and the busiest second."""

    sent: int = 0
    retries_429: int = 0
    retries_409: int = 0
    transport_errors: int = 0
    statuses: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    send_times: list[float] = field(default_factory=list)

    def peak_rate(self) -> int:
        """Most requests started within any one-second window."""
        times, best, lo = self.send_times, 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= 1.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def as_dict(self) -> dict:
        return {
            "requests_sent": self.sent,
            "retries_429": self.retries_429,
            "retries_409": self.retries_409,
            "transport_errors": self.transport_errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=lambda kv: str(kv[0]))},
            "peak_requests_per_second": self.peak_rate(),
            "duration_s": round(time.monotonic() - self.started, 3),
        }


class Transport:
    def __init__(self, base_url: str, secrets: Secrets, policy: Policy | None = None):
        self.base_url = base_url.rstrip("/")
        self.secrets = secrets
        self.policy = policy or Policy()
        self.stats = Stats()
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.policy.timeout),
            verify=self.policy.verify,
            follow_redirects=False,
            headers={"User-Agent": "fpjs-update-event-conformance/0.1"},
        )

    def close(self) -> None:
        self._client.close()

    # -- building ---------------------------------------------------------------------------------
    def _parts(self, request: Request) -> tuple[str, str, dict[str, str], dict[str, str]]:
        """(real URL, replay URL, real headers, replay headers)."""
        path = "/events/" + quote(request.request_id, safe="")
        query, shown_query = [], []
        creds = request.credentials
        if creds.query is not None:
            value, shown = self.secrets.value(creds.query)
            query.append((spec.key_query_param(), value))
            shown_query.append(f"{spec.key_query_param()}={shown}")
        for name, value in request.extra_query:
            query.append((name, value))
            shown_query.append(urlencode([(name, value)]))
        url = self.base_url + path + (("?" + urlencode(query)) if query else "")
        shown_url = self.base_url + path + (("?" + "&".join(shown_query)) if shown_query else "")
        headers: dict[str, str] = {}
        shown_headers: dict[str, str] = {}
        if creds.header is not None:
            value, shown = self.secrets.value(creds.header)
            headers[spec.key_header()] = value
            shown_headers[spec.key_header()] = shown
        if request.content_type and request.method != "GET":
            headers["Content-Type"] = shown_headers["Content-Type"] = request.content_type
        return url, shown_url, headers, shown_headers

    @staticmethod
    def curl(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> str:
        """A replay line; `${FPJS_API_KEY}` is expanded by the shell, so it must be exported."""
        parts = ["curl", "-sS", "-i", "--max-time", f"{timeout:g}", "-X", method, _dq(url)]
        for name, value in headers.items():
            parts += ["-H", _dq(f"{name}: {value}")]
        if body is not None:
            parts += ["--data-binary", _shell_bytes(body)]
        return " ".join(parts)

    # -- sending ----------------------------------------------------------------------------------
    def _pace(self) -> None:
        """Wait for the next send slot; slots are counted from actual send times, so jitter never bunches."""
        interval = 1.0 / self.policy.rate_limit if self.policy.rate_limit else 0.0
        with self._lock:
            wait = self._next_slot - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            now = time.monotonic()
            self._next_slot = now + interval
            self.stats.sent += 1
            self.stats.send_times.append(now)

    def _once(self, method: str, url: str, headers: dict[str, str], body: bytes | None, ex: Exchange) -> None:
        self._pace()
        started = time.monotonic()
        deadline = started + self.policy.timeout
        ex.status, ex.response_headers, ex.body, ex.error = None, {}, b"", None
        try:
            request = self._client.build_request(method, url, headers=headers, content=body)
            response = self._client.send(request, stream=True)
            try:
                chunks, size = [], 0
                for chunk in response.iter_raw():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.policy.max_body:
                        ex.error = f"response body larger than the {self.policy.max_body}-byte cap"
                        break
                    if time.monotonic() > deadline:
                        ex.error = f"response body not complete after {self.policy.timeout:g}s"
                        break
                ex.status = response.status_code
                ex.response_headers = {k.lower(): v for k, v in response.headers.items()}
                ex.body = b"".join(chunks)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            ex.error = f"timed out after {self.policy.timeout:g}s ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            ex.error = _one_line(exc)
        except ssl.SSLError as exc:  # pragma: no cover - httpx normally wraps these
            ex.error = f"TLS error: {_one_line(exc)}"
        ex.elapsed = time.monotonic() - started
        if ex.error:
            ex.status = None
            self.stats.transport_errors += 1
        else:
            self.stats.statuses[ex.status] += 1

    def send(self, request: Request) -> Exchange:
        url, shown_url, headers, shown_headers = self._parts(request)
        body = request.body.encode() if request.method != "GET" else None
        ex = Exchange(request=request, url=shown_url, headers=shown_headers)
        ex.curl = self.curl(request.method, shown_url, shown_headers, body, self.policy.timeout)
        rate_limited = 0
        backoff = iter(self.policy.not_ready_backoff)
        attempts = 0
        while True:
            attempts += 1
            self._once(request.method, url, headers, body, ex)
            if ex.status == 429 and rate_limited < self.policy.max_429_retries:
                rate_limited += 1
                self.stats.retries_429 += 1
                time.sleep(min(_retry_after(ex.response_headers), self.policy.max_retry_after))
                continue
            if ex.status == 409 and request.method != "GET" and _is_not_ready(ex):
                wait = next(backoff, None)
                if wait is not None:
                    self.stats.retries_409 += 1
                    time.sleep(wait)
                    continue
            break
        ex.attempts = attempts
        if ex.error:
            ex.error = self.secrets.scrub(ex.error)
        return ex


def _is_not_ready(ex: Exchange) -> bool:
    return ex.error_code() in spec.codes_by_status().get(409, frozenset())


def _retry_after(headers: dict[str, str]) -> float:
    """Integer seconds from Retry-After; 1 s when absent or not an integer."""
    try:
        return max(0.0, float(int(headers.get("retry-after", "1").strip())))
    except ValueError:
        return 1.0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def _dq(text: str) -> str:
    """Double-quote for bash, keeping `${...}` and `$(...)` expansions live."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'


def _shell_bytes(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
        if text.isprintable():
            return shlex.quote(text)
    except UnicodeDecodeError:
        pass
    out = []
    for byte in data:
        ch = chr(byte)
        out.append(ch if 32 <= byte < 127 and ch not in "'\\" else f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"
