"""What a request's parts are in the contract's terms: a pure classification from the profile.

A body is valid, or absent, malformed, not an object, of a wrong type, without a known field, or
past a limit; an event id is one the user designated, an unknown id of the live shape, a plain
id of another shape, or an odd one. The clause rules (`fpjs_conformance.rules`) and the public
strategies both ask here, so a strategy's filter and the oracle's prediction never disagree.
"""

from __future__ import annotations

import json
from typing import Any

from fpjs_conformance.model import Body, Events, strict_json
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
