"""What a read of an event gave: its stored fields, or why there are none (`ReadBack`), and which of those
reasons are the server's fault (`SERVER_FAULTS`, each judged by its own clause), never the setup's. Pure: the
target sends the read, the preflight and the state oracle act on what it gave."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fpjs_conformance.model import Exchange
from fpjs_conformance.profile import Profile
from fpjs_conformance.rules import responses, transient, transport


@dataclass
class ReadBack:
    """What reading the designated event back gave: its stored fields, or why there are none."""

    stored: dict[str, Any] | None
    exchange: Exchange | None = None
    problem: str = ""  # "", "no-route", "not-found", "refused", "garbage", and the server's faults below
    why: str = ""


# Read-back failures that are the server's fault (judged by these checks), never the setup's.
SERVER_FAULTS = {
    "transport": transport.transport_completed,
    "rate-limited": transient.not_rate_limited,
    "server-error": responses.no_server_error,
}


def reading(profile: Profile, ex: Exchange) -> ReadBack:
    """The event's fields as the answer to a read shows them, or why it shows none."""
    if ex.error:
        return ReadBack(None, ex, "transport", ex.error)
    if ex.status in profile.role("rate_limited").statuses:
        return ReadBack(None, ex, "rate-limited", ex.received()[:120])
    if ex.status >= 500:
        return ReadBack(None, ex, "server-error", ex.received()[:120])
    if ex.status == 200:
        try:
            stored = profile.stored(ex.json())
        except (ValueError, UnicodeDecodeError, RecursionError):
            stored = None
        if stored is None:
            return ReadBack(None, ex, "garbage", f"200 without the event's fields: {ex.received()[:120]}")
        return ReadBack(stored, ex)
    if ex.status in profile.refusal_statuses:
        return ReadBack(None, ex, "refused", f"{ex.status} {ex.error_code() or ''}".strip())
    if profile.role("unknown_event").allows(ex.status, ex.error_code()):
        return ReadBack(None, ex, "not-found", f"{ex.status} {ex.error_code()}")
    return ReadBack(None, ex, "no-route", f"{ex.status} {ex.media_type or ''}".strip())
