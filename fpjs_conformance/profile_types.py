"""The plain values a profile is made of: a role (how one kind of refusal is answered), a key place, a limit,
the names of the roles the suite knows, HTTP's own methods and refusals, and `ProfileError`. No version's
facts: those are read from the documents and the profile files (`profile`, `operation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fpjs_conformance import sources as evidence
from fpjs_conformance.sources import Source

ACCOUNT_LEVEL_STATUS = 403  # codes documented for 403 on any operation apply to every operation
BAD_JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
HTTP_REFUSALS = frozenset({401, 403})  # RFC 9110: Unauthorized, Forbidden
# The methods HTTP defines for a request to a path (RFC 9110, 9.3; PATCH: RFC 5789): CONNECT asks a proxy
# for a tunnel to an authority (9.3.6), never a path. HEAD is answered as GET is (9.3.2): declared with it.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH")
UNKNOWN_METHOD = "FPJSUNKNOWN"  # a token no registry holds (RFC 9110, 9.1: a method is any token)
HTTP_AUTH_HEADER = "Authorization"  # RFC 9110, 11.6.2: where every `type: http` security scheme puts its credentials
# Every error role the suite knows: what each kind of refusal is answered with, per version (`[roles]`).
ROLES = (
    "missing_key",  # no key in any place, or only empty ones
    "wrong_key",  # a key that is not the secret key
    "wrong_region",  # a valid key of an application in another region
    "unreadable_key",  # the key not spelled as its scheme says (bare, another scheme, the scheme alone)
    "retired_key_place",  # the valid key only in a place an earlier version took it
    "bad_request",  # a body that is not a valid update
    "too_large",  # a value past a documented limit (when refused)
    "empty_update",  # a schema-valid body with no known field
    "unknown_event",  # a well-formed id (the live shape) that names no event
    "invalid_event_id",  # a plain id not of the live shape
    "odd_event_id",  # an id with escapes, unicode, controls or great length
    "expired_event",  # an event past the update window
    "not_ready",  # an event not mutable yet
    "rate_limited",  # too many requests
)


# The roles that refuse the credentials: a code two of them share must come with the same status in both.
AUTH_ROLES = ("missing_key", "wrong_key", "wrong_region", "unreadable_key", "retired_key_place")


class ProfileError(ValueError):
    """A profile file that disagrees with its document, or names no known version."""


@dataclass(frozen=True)
class Role:
    """How the contract answers one kind of refusal: the statuses allowed, and the codes with each.

    The first status and the first code are what an implementation answers (the reference server);
    `any_code` lifts the code rule (the document does not say which code); `open` says why the
    document leaves the answer open, when it does.
    """

    name: str
    answers: dict[int, frozenset[str] | None]
    status: int
    code: str
    open: str = ""
    sources: tuple[Source, ...] = ()  # what the answers rest on (`source`)
    undeclared: frozenset[int] = frozenset()  # statuses the operation does not declare, paired with it by evidence

    @property
    def statuses(self) -> frozenset[int]:
        return frozenset(self.answers)

    @property
    def lenient(self) -> dict[int, None] | None:
        """The role's statuses with any code, when its codes are the suite's judgement: another code with one of
        them breaks only that judgement (SHOULD); None when the role rests on the document or evidence alone."""
        return dict.fromkeys(self.answers) if evidence.judged(self.sources) else None

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c for codes in self.answers.values() if codes for c in codes)

    def allows(self, status: int | None, code: str | None) -> bool:
        if status not in self.answers:
            return False
        codes = self.answers[status]
        return codes is None or code in codes


@dataclass(frozen=True)
class KeyPlace:
    """Where a secret key goes: a header (bare, or after an HTTP auth scheme word) or a query parameter."""

    name: str  # how requests name the place: "header", "query", "retired-header", ...
    location: str  # "header" or "query"
    field: str  # the header or query parameter name
    scheme: str | None = None  # an HTTP auth scheme: the header value is "<scheme> <key>"

    def describe(self) -> str:
        where = (
            f"the {self.field} {self.location}" if self.location == "header" else f"the {self.field} query parameter"
        )
        return f"{where} ({self.scheme} scheme)" if self.scheme else where


@dataclass(frozen=True)
class Limit:
    field: str
    max_chars: int | None = None  # strings: characters
    max_bytes: int | None = None  # objects: bytes of their JSON text
    sources: tuple[Source, ...] = ()  # where the number comes from (the update endpoint documents none)

    def exceeded_by(self, value: Any) -> bool:
        import json

        if self.max_chars is not None and isinstance(value, str):
            return len(value) > self.max_chars
        if self.max_bytes is not None and isinstance(value, dict | list):
            return len(json.dumps(value, ensure_ascii=False).encode()) > self.max_bytes
        return False

    def counts(self, value: Any) -> tuple[int, ...]:
        """Every way the limit may count `value`, the suite's own first (the documents say "characters" and
        "KB", never how the update endpoint counts): a string's characters, UTF-8 bytes and UTF-16 units; an
        object's JSON text in UTF-8, and with every non-ASCII character escaped."""
        import json

        if isinstance(value, str):
            return (
                len(value),
                len(value.encode("utf-8", "surrogatepass")),
                len(value.encode("utf-16-le", "surrogatepass")) // 2,
            )
        text = json.dumps(value, ensure_ascii=False)
        return len(text.encode("utf-8", "surrogatepass")), len(json.dumps(value).encode())

    @property
    def lowest(self) -> int:
        """The lowest the limit may be: its characters, or its kilobytes of 1000 bytes ("16KB": 16,000)."""
        return self.max_chars if self.max_chars is not None else (self.max_bytes or 0) * 1000 // 1024

    def at_limit(self, value: Any) -> bool:
        """Within the limit as the suite counts it, but at or past it by another count (or exactly at it)."""
        kind = str if self.max_chars is not None else dict | list
        return isinstance(value, kind) and not self.exceeded_by(value) and max(self.counts(value)) >= self.lowest

    def describe(self) -> str:
        return (
            f"{self.field} over {self.max_chars} characters"
            if self.max_chars
            else f"{self.field} over {self.max_bytes} bytes"
        )


def auth_overlaps(roles: dict[str, Role]) -> list[str]:
    """Codes two auth roles share with different statuses: a version that moves one role to another status
    (401 for a missing key) and leaves a role built of it (an unreadable key) at the old one."""
    by_code: dict[str, dict[int, list[str]]] = {}
    for name in AUTH_ROLES:
        for status, codes in roles[name].answers.items():
            for code in codes or ():
                by_code.setdefault(code, {}).setdefault(status, []).append(name)
    return [
        f"{code}: " + "; ".join(f"{status} in {', '.join(names)}" for status, names in sorted(statuses.items()))
        for code, statuses in sorted(by_code.items())
        if len(statuses) > 1
    ]
