"""What the suite sends and what came back, as plain data.

Requests name their credentials symbolically (`Key("valid")`, `Key("near", "drop-last")`) and
their key places by the profile's place names (`header`, `query`, `retired-header`): the real
secret, header name and scheme are put in only by the transport at send time. Anything that
prints a request (Hypothesis examples, failure messages, reports) never sees the secret.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Events:
    """The target's events the user designated (ids are not secret)."""

    live: str
    expired: str | None = None
    not_ready: str | None = None
    foreign: str | None = None  # an event of another workspace (application) in the same region


def strict_json(raw: bytes) -> Any:
    """JSON over UTF-8 as RFC 8259 has it: NaN and Infinity are not JSON (ValueError)."""

    def reject(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw.decode("utf-8"), parse_constant=reject)


def _change_first(key: str, var: str) -> tuple[str, str]:
    ch = "z" if key[:1] == "y" else "y"
    return ch + key[1:], f"{ch}${{{var}:1}}"


def _change_last(key: str, var: str) -> tuple[str, str]:
    ch = "z" if key[-1:] == "y" else "y"
    return key[:-1] + ch, f"${{{var}%?}}{ch}"


# Near-miss mutations of the real key: name -> f(key, shell variable) -> (wrong key, bash expression).
# The bash form lets a replay line rebuild the same wrong key from the exported secret.
NEAR_MISSES: dict[str, Any] = {
    "drop-last": lambda k, v: (k[:-1], f"${{{v}%?}}"),
    "append-char": lambda k, v: (k + "x", f"${{{v}}}x"),
    "append-equals": lambda k, v: (k + "=", f"${{{v}}}="),  # base64 padding a lenient decoder drops
    "change-first": _change_first,
    "change-last": _change_last,
    "swap-case": lambda k, v: (k.swapcase(), f'$(printf %s "${v}" | tr a-zA-Z A-Za-z)'),
    "doubled": lambda k, v: (k + k, f"${{{v}}}${{{v}}}"),
    "first-half": lambda k, v: (k[: len(k) // 2], f"${{{v}:0:{len(k) // 2}}}"),
}


@dataclass(frozen=True)
class Key:
    """A symbolic API key.

    kind: `valid` (the target's secret key), `wrong_region` (the other-region key), `foreign` (the
    key of another workspace), `near` (a near-miss of the secret key; `variant` names the mutation),
    `padded` (the secret key with `variant`, white space, on both sides), `literal` (`variant` is
    the key itself: never secret), `empty`.
    """

    kind: str
    variant: str = ""

    def describe(self) -> str:
        if self.kind == "near":
            return f"near-miss of the API key ({self.variant})"
        if self.kind == "literal":
            return f"unrelated key {self.variant!r}"
        if self.kind == "padded":
            return f"the valid API key with {self.variant!r} around it"
        return {
            "valid": "the valid API key",
            "wrong_region": "the other region's key",
            "foreign": "another workspace's key",
            "empty": "an empty key",
        }[self.kind]


VALID = Key("valid")
EMPTY = Key("empty")
WRONG_REGION = Key("wrong_region")
FOREIGN = Key("foreign")
DOCUMENTED = ""  # a Credential's spelling as the document gives it


@dataclass(frozen=True)
class Credential:
    """One key in one place, and how it is spelled on the wire.

    `name_case`: "" the documented header name, or "lower"/"upper". `name`: "" the place's own
    header or query parameter name, or another (a near miss of it: then the key is in no place the
    document names). `scheme`: "" the documented
    scheme (if the place has one), None the bare key without a scheme, or another word
    ("bearer", "Basic") in its place. `separator`: what goes between the scheme and the key (one
    space is the only one HTTP's grammar allows here).
    """

    place: str
    key: Key
    name_case: str = DOCUMENTED
    scheme: str | None = DOCUMENTED
    separator: str = " "
    name: str = DOCUMENTED

    @property
    def as_documented(self) -> bool:
        return self.name_case == self.name == DOCUMENTED and self.scheme == DOCUMENTED and self.separator == " "

    def describe(self) -> str:
        how = []
        if self.name:
            how.append(f"under the name {printable(self.name)!r}")
        if self.name_case:
            how.append(f"name in {self.name_case} case")
        if self.scheme is None:
            how.append("no scheme")
        elif self.scheme:
            how.append(f"scheme {self.scheme!r}")
        if self.separator != " ":
            how.append(f"separator {self.separator!r}")
        return f"{self.place}: {self.key.describe()}" + (f" ({', '.join(how)})" if how else "")


@dataclass(frozen=True)
class Credentials:
    """The keys a request carries, each in its place (none: no key at all)."""

    items: tuple[Credential, ...] = ()

    @classmethod
    def of(cls, **places: Key) -> Credentials:
        """`Credentials.of(header=VALID)`; a place name with a dash: `Credentials.of(**{"retired-query": VALID})`."""
        return cls(tuple(Credential(place, key) for place, key in places.items()))

    def describe(self) -> str:
        return ", ".join(c.describe() for c in self.items) or "no key"

    def __repr__(self) -> str:  # shown in Hypothesis examples
        return f"Credentials({self.describe()})"


NO_KEY = Credentials()


def printable(text: str) -> str:
    """Escape control and other invisible characters, so a failure line shows what was sent."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def cut(text: str, limit: int = 200) -> str:
    """`text` within `limit` characters for a line a reader reads, saying how long it was when it is cut
    (the reports' records keep the whole value)."""
    return text if len(text) <= limit else f"{text[: limit - 24]}... ({len(text)} characters)"


ABSENT = object()


@dataclass(frozen=True)
class Body:
    """A request body: a JSON value, raw bytes, or nothing at all."""

    json_value: Any = ABSENT
    raw: bytes | None = None

    @classmethod
    def of(cls, value: Any) -> Body:
        return cls(json_value=value)

    @classmethod
    def bytes_(cls, raw: bytes) -> Body:
        return cls(raw=raw)

    @classmethod
    def decoded(cls, raw: bytes) -> Body:
        """The body these bytes are: exactly these bytes on the wire, with the JSON value they stand for
        where they are JSON (escapes and spacing kept: the value is what the server should store)."""
        try:
            return cls(json_value=strict_json(raw), raw=raw)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return cls(raw=raw)

    @property
    def present(self) -> bool:
        return self.raw is not None or self.json_value is not ABSENT

    def encode(self) -> bytes | None:
        if self.raw is not None:
            return self.raw
        if self.json_value is ABSENT:
            return None
        return json.dumps(self.json_value, ensure_ascii=False).encode("utf-8")

    def describe(self, limit: int = 160) -> str:
        if not self.present:
            return "no body"
        data = self.encode() or b""
        text = printable(data.decode("utf-8", errors="backslashreplace"))
        return text if len(text) <= limit else f"{text[:limit]}... ({len(data)} bytes)"

    def __repr__(self) -> str:  # shown in Hypothesis falsifying examples
        return f"Body({self.describe()})"

    def __hash__(self) -> int:
        return hash(self.encode())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Body) and self.encode() == other.encode()


NO_BODY = Body()
UPDATE, READ = "update", "read"


@dataclass(frozen=True)
class Request:
    """One request to the target, in symbolic form: the update (or the read-back) of one event."""

    event_id: str
    credentials: Credentials = NO_KEY
    body: Body = NO_BODY
    op: str = UPDATE
    content_type: str | None = "application/json"
    extra_query: tuple[tuple[str, str], ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()
    # How the client shapes the optional headers it sends by default (Accept, Accept-Encoding,
    # User-Agent, Connection): (name, value) sends that value, (name, None) leaves the header out.
    headers_as: tuple[tuple[str, str | None], ...] = ()
    method: str | None = None  # another HTTP method than the operation's (one the document does not declare)
    id_encoded: bool = False  # `event_id` is the path text as sent (percent-encodings, `/` and `;` kept)

    def fingerprint(self) -> tuple:
        """What makes two requests the same on the wire (bodies compared as bytes)."""
        return (
            self.op,
            self.event_id,
            self.credentials,
            self.body.encode(),
            self.content_type,
            self.extra_query,
            self.extra_headers,
            self.headers_as,
            self.method,
            self.id_encoded,
        )

    def to_record(self, events: Events | None = None) -> dict[str, Any]:
        """The request as data (symbolic keys, the body's exact bytes): what a replay rebuilds it from.
        A designated event is named by its role (`live`, `expired`, `not_ready`, `foreign`), not its id."""
        roles = (
            {}
            if events is None
            else {
                events.live: "live",
                events.expired: "expired",
                events.not_ready: "not_ready",
                events.foreign: "foreign",
            }
        )
        raw = self.body.encode()
        return {
            "op": self.op,
            "event": {"role": roles.get(self.event_id), "id": self.event_id},
            "credentials": [
                {
                    "place": c.place,
                    "key": {"kind": c.key.kind, "variant": c.key.variant},
                    "name_case": c.name_case,
                    "scheme": c.scheme,
                    "separator": c.separator,
                    "name": c.name,
                }
                for c in self.credentials.items
            ],
            "body_b64": None if raw is None else base64.b64encode(raw).decode("ascii"),
            "content_type": self.content_type,
            "extra_query": [list(pair) for pair in self.extra_query],
            "extra_headers": [list(pair) for pair in self.extra_headers],
            "headers_as": [list(pair) for pair in self.headers_as],
            "method": self.method,
            "id_encoded": self.id_encoded,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any], events: Events | None = None) -> Request:
        """A request rebuilt from `to_record`; a designated event's role maps to `events` (another target's)."""
        event = data["event"]
        event_id = event["id"]
        if events is not None and event.get("role"):
            event_id = getattr(events, event["role"]) or event_id
        creds = tuple(
            Credential(
                c["place"],
                Key(**c["key"]),
                c.get("name_case", ""),
                c.get("scheme", ""),
                c.get("separator", " "),
                c.get("name", ""),
            )
            for c in data.get("credentials", [])
        )
        raw = data.get("body_b64")
        body = NO_BODY if raw is None else Body.decoded(base64.b64decode(raw))
        return cls(
            event_id,
            Credentials(creds),
            body,
            data.get("op", UPDATE),
            data.get("content_type"),
            tuple(tuple(p) for p in data.get("extra_query", [])),
            tuple(tuple(p) for p in data.get("extra_headers", [])),
            tuple(tuple(p) for p in data.get("headers_as", [])),
            data.get("method"),
            bool(data.get("id_encoded")),
        )

    def describe_headers(self) -> str:
        """The optional headers as shaped, in words ("" when sent as the suite's client sends them)."""
        parts = [f"no {name}" if value is None else f"{name}: {value}" for name, value in self.headers_as]
        return ", ".join(parts)

    def __repr__(self) -> str:
        op = self.method or self.op
        return f"Request({op} {printable(self.event_id)!r} [{self.credentials.describe()}] {self.body.describe(80)})"


@dataclass
class Exchange:
    """A request as sent (secrets already redacted) and what came back, or why nothing did."""

    request: Request
    method: str
    url: str  # redacted
    headers: dict[str, str]  # redacted
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""  # decoded (gzip and deflate undone), as it came: what is judged
    error: str | None = None  # transport failure, if any
    elapsed: float = 0.0
    attempts: int = 1
    curl: str = ""
    version: str = ""
    stray_after: Exchange | None = field(default=None, repr=False)  # an earlier answer that left stray bytes
    dropped: Exchange | None = field(default=None, repr=False)  # this request's first try, closed unanswered
    statuses: list[int] = field(default_factory=list)  # the status of every try (a 409 or 429 retried, then 200)
    tries: list[Exchange] = field(default_factory=list, repr=False)  # earlier tries: answers retried, connections lost
    # The body as it may be shown: the secrets scrubbed out whole before any excerpt is cut from it (an
    # excerpt cut first could keep part of an echoed key). None: nothing to scrub (the body itself).
    shown_body: bytes | None = field(default=None, repr=False)
    gateway: Exchange | None = field(default=None, repr=False)  # an intermediary's 502/503/504 page, tried again
    _parsed: tuple[bytes, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> str:
        """The path and query as sent (percent-encoded, secrets redacted)."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def describe_request(self) -> str:
        req = self.request
        head = f"{self.method} {self.path} [{req.credentials.describe()}]"
        if req.headers_as:
            head += f" [{req.describe_headers()}]"
        if req.op == READ:
            return head
        return f"{head} ({req.content_type or 'no Content-Type'}) {req.body.describe(80)}"

    @property
    def media_type(self) -> str:
        return self.response_headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON, parsed once per body: every check of an exchange asks for it."""
        if self._parsed is None or self._parsed[0] is not self.body:
            self._parsed = (self.body, strict_json(self.body))
        return self._parsed[1]

    def error_code(self) -> str | None:
        """The ErrorResponse code, when the body has one (never raises)."""
        try:
            payload = self.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            code = payload["error"].get("code")
            return code if isinstance(code, str) else None
        return None

    def body_excerpt(self, limit: int = 300) -> str:
        """The start of the body as it may be shown (secrets scrubbed before it is cut)."""
        body = self.body if self.shown_body is None else self.shown_body
        text = printable(body[:limit].decode("utf-8", errors="backslashreplace"))
        return text + ("..." if len(body) > limit else "")

    def received(self) -> str:
        if self.error:
            return f"no response: {self.error}"
        return f"{self.status} {self.media_type or '(no content type)'} {self.body_excerpt(160)}".rstrip()

    def __repr__(self) -> str:
        return f"Exchange({self.describe_request()} -> {self.received()[:80]})"
