"""The designated event as this run knows it: what it held before the run, and what the run left in it.

Every version's target updates the same event, so they share one `EventState`. Fields are keyed by
the store names one event has across versions (`Profile.to_store`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = object()  # a field's stored value after a write the server should have refused


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass
class EventState:
    """The designated event's fields before the run, and what the run last left in them, by store name."""

    original: dict[str, Any] | None = None
    written: dict[str, Any] = field(default_factory=dict)
    # What the read-back last showed since the run's last accepted write: how the server stored it,
    # which may differ from what was written (a fault judged elsewhere, not another writer's doing).
    seen: dict[str, Any] | None = None
    # How the server stores what this run wrote, as read back: (field, value written) -> value read.
    stored_as: dict[tuple[str, str], Any] = field(default_factory=dict)
    read: bool = False  # the original was read (or could not be)
    wrote: bool = False  # an update of it was accepted

    def remember_storage(self, seen: dict[str, Any]) -> None:
        self.seen = seen
        for k, wrote in self.written.items():
            if wrote is not UNKNOWN:
                self.stored_as[k, canonical(wrote)] = seen.get(k)

    def expected(self, k: str) -> Any:
        """What the read-back should show of field `k` if nobody else wrote it since this run did."""
        wrote = self.written.get(k)
        if wrote is UNKNOWN:
            return UNKNOWN
        return self.stored_as.get((k, canonical(wrote)), wrote)

    def accepted(self, fields: dict[str, Any], *, trusted: bool) -> None:
        """An update of the event was answered 200 (`trusted`: as the contract says it should be)."""
        self.wrote = True
        self.written.update(fields if trusted else dict.fromkeys(fields, UNKNOWN))
        self.seen = None
