"""Methods the document does not declare for the event's path: refused, never a 5xx, and nothing changes.

Which methods: every method HTTP defines for a request to a path (RFC 9110, 9.3; PATCH: RFC 5789) that
the document does not declare there, and a token no registry holds (`Profile.undeclared_methods`):
under v3 a PATCH, under v4 a PUT (a server that takes the other version's method may write with other
semantics), POST, DELETE, OPTIONS, TRACE. Each goes to the designated event with the valid key and a
body of marks (none with TRACE, which carries no content: 9.3.8), so a server that writes with it shows
which request did (UE-STATE-02); DELETE alone goes to an id that names no event (the write gate sends no
method that removes what it names to a designated event: no restore could put it back). 404, 405 and
501 refuse it (RFC 9110, 15.5.5, 15.5.6, 15.6.2); OPTIONS
may also answer 200 or 204 (9.3.7). The answer is no answer of the operation: the response clauses
(declared statuses, ErrorResponse) do not judge it.
"""

from __future__ import annotations

from collections.abc import Iterator

from fpjs_conformance.checks import Expectation
from fpjs_conformance.model import NO_BODY, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import cases, clause
from fpjs_conformance.shapes import IRREVERSIBLE
from fpjs_conformance.table import UNKNOWN_LIVE_SHAPE, Case, Table

UNDECLARED_REFUSED = clause("UE-HTTP-03")

REFUSALS = (404, 405, 501)
ALSO = {"OPTIONS": (200, 204)}  # RFC 9110, 9.3.7: OPTIONS asks what the resource allows
NO_CONTENT = ("TRACE",)  # RFC 9110, 9.3.8: a client must not send content in a TRACE request


def undeclared(profile: Profile, request: Request) -> bool:
    return request.method is not None and request.method in profile.undeclared_methods


def expectation(profile: Profile, request: Request) -> Expectation:
    allowed = dict.fromkeys((*REFUSALS, *ALSO.get(request.method or "", ())))
    why = f"{request.method}: a method the document does not declare for the path"
    return Expectation(UNDECLARED_REFUSED, why, allowed=allowed, defer=profile.role("rate_limited").statuses)


@cases
def undeclared_methods(t: Table) -> Iterator[Case]:
    for method in t.p.undeclared_methods:
        where = UNKNOWN_LIVE_SHAPE if method in IRREVERSIBLE else None
        if method in NO_CONTENT:
            request = t.update(NO_BODY, method=method, content_type=None, event_id=where)
        else:
            request = t.update(method=method, event_id=where)
        yield t.case(f"method/{method}", UNDECLARED_REFUSED, request)
