"""HTTP as real clients speak it: the optional request headers left out or sent another way, and the
JSON media type spelled in another letter case or with parameters. None of it may change the answer.

`variation` says what a request varies of what the contract does not require; the oracle then judges
its answer under UE-HTTP-02 as well, as the same request is judged without the variation
(`same_answer`), so a failure names the header. A refused request stays refused for its credentials
(`still_refused`): which refusal code, or an acceptance (which no header grants), is the auth
clauses' to judge, so a server that is wrong about keys is not also blamed for the headers. The
header shapes of real clients (`contracts/variety.toml`, `[headers]` and `[content_type]`) ride on
the other families' cases, refusals and acceptances alike (`Table.shaped`); the case here is the
JSON media type with a charset alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from hypothesis import strategies as st

from fpjs_conformance import strategies, variety
from fpjs_conformance.checks import Expectation
from fpjs_conformance.model import Request
from fpjs_conformance.registry import cases, clause, explores
from fpjs_conformance.table import Case, Table

VARIED = clause("UE-HTTP-02")
PLAIN_JSON = "application/json"  # the media type as the suite's own client spells it


def variation(request: Request) -> str:
    """What `request` varies of what the contract does not require, in words ("" when nothing)."""
    parts = [request.describe_headers()] if request.headers_as else []
    ct = request.content_type
    if ct is not None and ct != PLAIN_JSON and variety.json_media(ct):
        parts.append(f"Content-Type: {ct}")
    return ", ".join(parts)


def same_answer(lead: Expectation, varied: str) -> Expectation:
    """The lead expectation of a varied request, under UE-HTTP-02: what the request gets without it."""
    return replace(lead, clause_id=VARIED, why=f"{lead.why}: the same answer as without {varied}")


def still_refused(refusal: Expectation, varied: str, statuses: frozenset[int]) -> Expectation:
    """A request refused for its credentials, varied: refused still (any of `statuses`, any code)."""
    return Expectation(
        VARIED,
        f"{refusal.why}: refused as without {varied}",
        allowed=dict.fromkeys(sorted(statuses)),
        defer=refusal.defer | {200},
    )


# -- the coverage table ------------------------------------------------------------------------------
@cases
def media_type_parameters(t: Table) -> Iterator[Case]:
    yield t.case("shape/charset", VARIED, t.update(content_type="application/json; charset=utf-8"))


# -- random examples ---------------------------------------------------------------------------------
@explores(VARIED, weight=0.5)
def random_shapes(t: Table):
    p = t.p
    creds = strategies.valid_credentials(p) | strategies.bad_credentials(p, wrong_region=t.wrong_region)

    def build(body, cred, shape: variety.Shape) -> Request:
        return t.update(body, creds=cred, **shape.request_kw())

    return st.builds(build, strategies.valid_bodies(p), creds, st.sampled_from(variety.shapes()))
