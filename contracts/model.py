"""What the suite sends and what came back, as plain data.

Requests name their credentials symbolically (`Key("valid")`, `Key("near", "drop-last")`): the
real secret is put in only by the transport at send time. Anything that prints a request
(Hypothesis falsifying examples, failure messages, reports) therefore never sees the secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


def _change_first(key: str, var: str) -> tuple[str, str]:
    ch = "z" if key[:1] == "y" else "y"
    return ch + key[1:], f"{ch}${{{var}:1}}"


# Near-miss mutations of the real key: name -> f(key, shell variable) -> (wrong key, bash expression).
# The bash form lets a replay line rebuild the same wrong key from the exported secret.
NEAR_MISSES: dict[str, Any] = {
    "drop-last": lambda k, v: (k[:-1], f"${{{v}%?}}"),
    "append-char": lambda k, v: (k + "x", f"${{{v}}}x"),
    "change-first": _change_first,
    "swap-case": lambda k, v: (k.swapcase(), f'$(printf %s "${v}" | tr a-zA-Z A-Za-z)'),
    "doubled": lambda k, v: (k + k, f"${{{v}}}${{{v}}}"),
    "first-half": lambda k, v: (k[: len(k) // 2], f"${{{v}:0:{len(k) // 2}}}"),
}


@dataclass(frozen=True)
class Key:
    """A symbolic API key.

    kind: `valid` (the target's secret key), `wrong_region` (the other-region key), `near`
    (a near-miss of the secret key; `variant` names the mutation), `literal` (`variant` is the
    key itself: never secret), `empty`.
    """

    kind: str
    variant: str = ""

    def describe(self) -> str:
        if self.kind == "near":
            return f"near-miss of the API key ({self.variant})"
        if self.kind == "literal":
            return f"unrelated key {self.variant!r}"
        return {"valid": "the valid API key", "wrong_region": "the other region's key", "empty": "an empty key"}[
            self.kind
        ]


VALID = Key("valid")
EMPTY = Key("empty")
WRONG_REGION = Key("wrong_region")


@dataclass(frozen=True)
class Credentials:
    """Where keys go: the Auth-API-Key header, the api_key query parameter, both, or neither."""

    header: Key | None = None
    query: Key | None = None

    def describe(self) -> str:
        parts = []
        if self.header:
            parts.append(f"header: {self.header.describe()}")
        if self.query:
            parts.append(f"query: {self.query.describe()}")
        return ", ".join(parts) or "no key"


NO_KEY = Credentials()
HEADER_KEY = Credentials(header=VALID)
QUERY_KEY = Credentials(query=VALID)

ABSENT = object()


def printable(text: str) -> str:
    """Escape control and other invisible characters, so a failure line shows what was sent."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


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


NO_BODY = Body()


@dataclass(frozen=True)
class Request:
    """One request to the target, in symbolic form."""

    request_id: str
    credentials: Credentials = HEADER_KEY
    body: Body = NO_BODY
    method: str = "PUT"
    content_type: str | None = "application/json"
    extra_query: tuple[tuple[str, str], ...] = ()

    def fingerprint(self) -> tuple:
        """What makes two requests the same on the wire (bodies compared as bytes)."""
        return (self.method, self.request_id, self.credentials, self.body.encode(), self.content_type, self.extra_query)

    def describe(self) -> str:
        head = f"{self.method} /events/{self.request_id} [{self.credentials.describe()}]"
        if self.method == "GET":
            return head
        ctype = self.content_type or "no Content-Type"
        return f"{head} ({ctype}) {self.body.describe(80)}"


@dataclass
class Exchange:
    """A request as sent (secrets already redacted) and what came back, or why nothing did."""

    request: Request
    url: str  # redacted
    headers: dict[str, str]  # redacted
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # transport failure, if any
    elapsed: float = 0.0
    attempts: int = 1
    curl: str = ""
    _parsed: tuple[bytes, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def media_type(self) -> str:
        return self.response_headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON, parsed once per body: every check of an exchange asks for it."""
        if self._parsed is None or self._parsed[0] is not self.body:
            self._parsed = (self.body, json.loads(self.body.decode("utf-8")))
        return self._parsed[1]

    def error_code(self) -> str | None:
        """The ErrorResponse code, when the body has one (never raises)."""
        try:
            payload = self.json()
        except (ValueError, UnicodeDecodeError):
            return None
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            code = payload["error"].get("code")
            return code if isinstance(code, str) else None
        return None

    def body_excerpt(self, limit: int = 300) -> str:
        text = printable(self.body[:limit].decode("utf-8", errors="backslashreplace"))
        return text + ("..." if len(self.body) > limit else "")

    def received(self) -> str:
        if self.error:
            return f"no response: {self.error}"
        return f"{self.status} {self.media_type or '(no content type)'} {self.body_excerpt(160)}".rstrip()
