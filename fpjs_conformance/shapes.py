"""What a request's parts are in the contract's terms: a pure classification from the profile.

A body is valid, or absent, malformed, not an object, of a wrong type, without a known field, or
past a limit; an event id is one the user designated, an unknown id of the live shape, a plain
id of another shape, or an odd one. The clause rules (`fpjs_conformance.rules`) and the public
strategies both ask here, so a strategy's filter and the oracle's prediction never disagree.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from fpjs_conformance.model import Body, Events, Request, strict_json
from fpjs_conformance.profile import Profile

# Body kinds, from the most to the least broken.
ABSENT, MALFORMED, NOT_OBJECT, WRONG_TYPE = "absent", "malformed", "not-object", "wrong-type"
NO_KNOWN_FIELD, PAST_LIMIT, VALID = "no-known-field", "past-limit", "valid"
# Event id kinds.
DESIGNATED, NOT_READY, EXPIRED = "designated", "not-ready", "expired"
UNKNOWN, INVALID, ODD, FOREIGN = "unknown", "invalid", "odd", "foreign"


def parse_json(raw: bytes) -> tuple[bool, Any]:
    """(well-formed, value): strict JSON over UTF-8 (no NaN or Infinity)."""
    try:
        return True, strict_json(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False, None


def body_value(body: Body) -> tuple[bool, Any]:
    """(well-formed, the JSON value) of a present body: its own text parsed when it has one."""
    if body.raw is not None:
        return parse_json(body.raw)
    return True, body.json_value


def _past(limit: Any, value: Any) -> bool:
    """The limit's test; an object holding a lone surrogate (no UTF-8 of its own) sized as its escapes."""
    try:
        return limit.exceeded_by(value)
    except UnicodeEncodeError:
        size = len(json.dumps(value).encode())
        return bool(limit.max_bytes) and isinstance(value, dict | list) and size > limit.max_bytes


def fields_at_limit(profile: Profile, body: Body) -> list[str]:
    """The fields of a valid body whose values are at their limit by some count (`Limit.at_limit`)."""
    ok, value = body_value(body) if body.present else (False, None)
    if not ok or not isinstance(value, dict):
        return []
    return [name for name, limit in profile.limits.items() if name in value and _at_limit(limit, value[name])]


def _at_limit(limit: Any, value: Any) -> bool:
    try:
        return limit.at_limit(value)
    except UnicodeEncodeError:  # an object holding a lone surrogate: past any count (see `_past`)
        return False


def body_kind(profile: Profile, body: Body) -> str:
    """What a request body is, for this version."""
    if not body.present:
        return ABSENT
    ok, value = body_value(body)
    if not ok:
        return MALFORMED
    if not isinstance(value, dict):
        return NOT_OBJECT
    if not profile.validator(profile.body_schema_name).is_valid(value):
        return WRONG_TYPE
    if not any(name in value for name in profile.fields):
        return NO_KNOWN_FIELD
    if any(_past(limit, value.get(name)) for name, limit in profile.limits.items() if name in value):
        return PAST_LIMIT
    return VALID


def id_kind(profile: Profile, event_id: str, events: Events) -> str:
    """What an event id is: designated by the user, or unknown (live shape), invalid (plain), odd."""
    if event_id == events.live:
        return DESIGNATED
    if event_id == events.not_ready:
        return NOT_READY
    if event_id == events.expired:
        return EXPIRED
    if event_id == events.foreign:
        return FOREIGN
    if profile.live_id.match(event_id):
        return UNKNOWN
    if profile.plain_id.match(event_id):
        return INVALID
    return ODD


def near_ids(live: str) -> dict[str, str]:
    """Ids the suite derives from the designated id, each a near miss of it that names no event of the
    target's (letter case swapped, last character changed, one shorter; one longer is a lookalike's suffix)."""
    return {
        "case-swapped": live.swapcase(),
        "last-changed": live[:-1] + ("y" if live[-1:] != "y" else "z"),
        "prefix": live[:-1],
    }


def may_name_an_event(profile: Profile, event_id: str) -> bool:
    """Whether an id could name an event the target issued: the live shape, from when ids were issued on
    (`issued_since`; without a time in the id's shape, every live-shaped id could)."""
    found = profile.live_id.match(event_id)
    if not found:
        return False
    stamp = found.groupdict().get("ms")
    if stamp is None or profile.issued_since_ms is None:
        return True
    return int(stamp) >= profile.issued_since_ms


# How a path text as sent relates to the designated id (RFC 3986, 6.2.2: unreserved characters
# percent-encoded, hex digits in either case, are the same id; a trailing slash is left open).
EQUIVALENT, OPEN, OTHER = "equivalent", "open", "other"
UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")  # RFC 3986, 2.3
# Methods whose effect no write-back undoes (RFC 9110, 9.3.5): never sent to a designated event.
IRREVERSIBLE = ("DELETE",)


def relation(text: str, live: str) -> str:
    """How a path text as sent relates to the designated id."""
    if all(c in UNRESERVED or c == "%" for c in text) and unquote(text) == live:
        return EQUIVALENT
    if text.rstrip("/") == live and text != live:
        return OPEN
    return OTHER


def designated(request: Request, events: Events) -> bool:
    """The request is addressed to the designated event (as sent, or a path text that may stand for it)."""
    if not request.id_encoded:
        return request.event_id == events.live
    return relation(request.event_id, events.live) != OTHER
