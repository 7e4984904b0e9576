"""What the live API is known or reported to do beyond the document (docs/live-api.md), as servers.

Controls: behaviour the suite must let pass, each a relaxation issue 29 asks for (a not-ready that
lasts long, a value at an undocumented limit refused, v4's 413 for a payload past the limit, one
intermediary's 502 page, v3 taking the vendor's own `tags`). Mutants: the same relaxations overstepped,
each caught by the check that bounds it.
"""

import json
import time

from starlette.responses import HTMLResponse, JSONResponse

from fpjs_conformance import evidence
from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import ReferenceServer
from tests.variants import answer_of, control, mutant

SLOW_NOT_READY = 2.5  # seconds: a sixth of the self-test's not-ready budget (tests/harness.py) is what 16 s was of 75
GATEWAY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


def _counted_past(limit, value) -> bool:
    """A count the documents leave open: a string's UTF-8 bytes up to and including the limit, an object's
    escaped JSON text against kilobytes of 1000 bytes."""
    if limit.max_chars and isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass")) >= limit.max_chars
    if limit.max_bytes and isinstance(value, dict):
        return len(json.dumps(value)) >= limit.max_bytes * 1000 // 1024
    return False


class CountsOtherwise(ReferenceServer):
    """Base: refuses a value its own count puts at the limit, with `refusal(d)` (status, code)."""

    def refusal(self, d) -> tuple[str, int | None, str | None]:
        return "too_large", None, None

    def validate(self, body, d):
        super().validate(body, d)
        for name, limit in d.limits.items():
            if name in body and _counted_past(limit, body[name]):
                role, status, code = self.refusal(d)
                raise self.error(d, role, f"{name} is too large", status=status, code=code)


class Counting(ReferenceServer):
    """Base: `page(n, d)` may answer the n-th request of a version (any method; `updates_only`: the n-th update
    with the version's update method) instead of the server."""

    updates_only = False

    def page(self, n: int, d):
        return None

    def app(self):
        inner = super().app()
        seen = {d.version: 0 for d in self.dialects}
        by_prefix = sorted(self.dialects, key=lambda d: -len(d.prefix))  # the longest prefix that fits

        async def app(scope, receive, send):
            d = next((d for d in by_prefix if scope["type"] == "http" and scope["path"].startswith(d.prefix)), None)
            if d is not None and (not self.updates_only or scope["method"] == d.update_method):
                seen[d.version] += 1
                response = self.page(seen[d.version], d)
                if response is not None:
                    await response(scope, receive, send)
                    return
            await inner(scope, receive, send)

        return app


# -- controls -----------------------------------------------------------------------------------------
@control("not-ready-for-a-while")
class NotReadyForAWhile(ReferenceServer):
    """409 not-ready to every update of the designated and the not-ready event for 2.5 s after its first
    update: longer than the suite's old waits lasted (their share of the not-ready budget), within the
    budget (as the vendor's own tests wait about a minute in all)."""

    def check_mutable(self, event, d):
        first = self.__dict__.setdefault("first_update", {})
        if event.event_id in (self.settings.request_id, self.settings.not_ready_request_id):
            since = time.monotonic() - first.setdefault(event.event_id, time.monotonic())
            if since < SLOW_NOT_READY:
                raise self.error(d, "not_ready", "resource is not mutable yet, try again")
        super().check_mutable(event, d)


@control("at-limit-refused")
class AtLimitRefused(CountsOtherwise):
    """Counts a string's limit in UTF-8 bytes and up to the limit, an object's in escaped JSON text against
    16,000 bytes, and refuses what it counts as at the limit with the too_large role's answer: the update
    endpoint documents no unit, so this breaks only the suite's judgement (warnings, not failures)."""


@control("payload-too-large-413", versions=("v4",))
class PayloadTooLarge413(ReferenceServer):
    """Answers a body past a limit with 413 payload_too_large, as the vendor's own documents pair them
    (only v4's profile allows it: the status its too_large role names beyond the document)."""

    def error(self, d, role, message, *, status=None, code=None):
        extra = next(iter(d.roles[role].undeclared), None) if role == "too_large" else None
        if extra is not None:
            status, code = extra, sorted(d.roles[role].answers[extra])[0]
        return super().error(d, role, message, status=status, code=code)


@control("rare-gateway-502")
class RareGateway502(Counting):
    """One 502 with an intermediary's HTML page, to the 40th request of each version: tried again, it is
    answered."""

    def page(self, n, d):
        return HTMLResponse(GATEWAY_PAGE, status_code=502) if n == 40 else None


@control("tags-alias-v3", versions=("v3",))
class TagsAliasV3(ReferenceServer):
    """Takes a name the vendor itself uses for a field (v3: `tags` for `tag`, from its profile's
    [aliases]) when the field is absent: a deviation from the document, reported at SHOULD level."""

    def parse_body(self, raw, d):
        body = super().parse_body(raw, d)
        for alias in evidence.aliases(profiles.load(d.version)).values():
            if alias.name in body and alias.field not in body:
                body[alias.field] = body.pop(alias.name)
        return body


# -- mutants ------------------------------------------------------------------------------------------
@mutant("at-limit-refused-as-not-found", "UE-BODY-01", coverage_only=True)
class AtLimitRefusedAsNotFound(CountsOtherwise):
    """Refuses a value at the limit (as `at-limit-refused` counts) as an unknown event: a value at the limit
    may be refused only with the too_large role's answer."""

    def refusal(self, d):
        return "unknown_event", None, None


@mutant("odd-id-payload-too-large", "UE-ID-02", versions=("v4",), strict=True)
class OddIdPayloadTooLarge(ReferenceServer):
    """Refuses an odd id with 400 payload_too_large: a code that fits 400, but not one the odd-id role
    names, whose codes are the suite's judgement (a warning; --strict fails it)."""

    def find_event(self, event_id, d):
        p = profiles.load(d.version)
        if event_id not in self.events and not p.plain_id.fullmatch(event_id):
            named = p.role("odd_event_id").answers.get(400) or frozenset()
            raise self.error(d, "odd_event_id", "odd id", status=400, code=sorted(p.codes_by_status[400] - named)[0])
        return super().find_event(event_id, d)


@mutant("413-for-malformed", "UE-RESP-01")
class PayloadTooLargeForMalformed(ReferenceServer):
    """Answers a body that is not JSON with 413: a status the operation does not declare, allowed (under v4)
    only as the answer to a body past a limit."""

    def parse_body(self, raw, d):
        try:
            return super().parse_body(raw, d)
        except Exception:
            role = d.roles["too_large"]
            codes = sorted(role.answers.get(413) or role.codes)
            raise self.error(d, "too_large", "payload too large", status=413, code=codes[0]) from None


@mutant("gateway-503-often", "UE-RESP-02")
class Gateway503Often(Counting):
    """An intermediary's 503 HTML page to every 8th of the first 48 requests of each version: each retried one
    is answered, but such pages are not rare (6: more than 3, and more than 1% of the requests). Only the first
    48: each page costs the suite its wait before the retry."""

    def page(self, n, d):
        page = GATEWAY_PAGE.replace("502 Bad Gateway", "503 Service Unavailable")
        return HTMLResponse(page, status_code=503) if n % 8 == 0 and n <= 48 else None


@mutant("gateway-page-twice", "UE-RESP-02")
class GatewayPageTwice(Counting):
    """An intermediary's 502 page to the 40th request of each version and to the 41st (its retry): a page is
    retried once."""

    def page(self, n, d):
        return HTMLResponse(GATEWAY_PAGE, status_code=502) if n in (40, 41) else None


@mutant("api-503-once", "UE-RESP-02")
class Api503Once(Counting):
    """The API's own JSON error with 503, once per version (to its 40th update, whatever the suite's order):
    an API-shaped 5xx is never transient."""

    updates_only = True

    def page(self, n, d):
        if n != 40:
            return None
        return JSONResponse({"error": {"code": answer_of(d, "bad_request")[1], "message": "unavailable"}}, 503)
