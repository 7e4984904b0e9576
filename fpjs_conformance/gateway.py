"""Transient gateway answers: a 502, 503 or 504 whose body is not the API's JSON error (an intermediary's
page, as a user of the official Node SDK reported from the live API: fingerprintjs/node-sdk#204).

The transport tries such a request once more. When the retry got the API's answer and such pages stay
rare in the run (at most `SHARE` of its requests and at most `MOST`), each is a transient transport
event: reported, not a violation. That bound is the suite's judgement: `--strict` fails every one, and
past it every one fails (UE-RESP-02). A page whose retry got one again is judged as it came (a 5xx),
and so is an API-shaped 5xx. Shared by every version's target of a run; the run settles it at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance.model import Exchange

MOST = 3  # transient pages a run may see at most
SHARE = 0.01  # and at most this share of its requests
WHY = "an intermediary's page is retried once; a few in a run are transient, more fail (the suite's judgement)"


@dataclass
class Transients:
    strict: bool = False
    events: list[tuple[Any, Exchange]] = field(default_factory=list)  # (the target it came to, the page), in order
    failed: set[int] = field(default_factory=set)  # indexes of the events recorded as violations

    def seen(self, target: Any, page: Exchange) -> list[tuple[Any, Exchange]]:
        """A page whose retry got the API's answer; the events that fail now (all of them once too many came,
        or this one under --strict), each once."""
        self.events.append((target, page))
        return self._fail(strict=self.strict, too_many=len(self.events) > MOST)

    def settle(self, requests: int) -> list[tuple[Any, Exchange]]:
        """At the end of the run, when the share of its `requests` is known: the events that fail now."""
        return self._fail(strict=self.strict, too_many=len(self.events) > min(MOST, SHARE * requests))

    def _fail(self, *, strict: bool, too_many: bool) -> list[tuple[Any, Exchange]]:
        if not (strict or too_many):
            return []
        due = [i for i in range(len(self.events)) if i not in self.failed]
        self.failed.update(due)
        return [self.events[i] for i in due]

    def records(self, version: str) -> list[dict[str, Any]]:
        """The version's events as report data: what was sent, what came, and whether it stayed transient."""
        return [
            {
                "request": page.describe_request(),
                "status": page.status,
                "media_type": page.media_type,
                "body": page.body_excerpt(160),
                "transient": i not in self.failed,
                "curl": page.curl,
            }
            for i, (_, page) in enumerate(self.events)
            if page.version == version
        ]
