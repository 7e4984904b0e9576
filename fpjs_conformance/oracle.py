"""The contract as a prediction: for any request, the clauses its answer informs and what each allows.

A pure function of the profile, the request and the events the user designated. Every test asks it
instead of hard-coding an expected status, so the coverage table, generated requests (ours and
schemathesis's) and repeats are judged by one set of rules, including the clauses the contract
leaves open. One request may inform several clauses (a missing key on a bad body informs the
missing-key clause and auth-first); each gets its own expectation, so each records its verdict.
The pieces come from the clause rules: `auth.assess`, `ids.fault`, `body.fault`; here they are
combined (credentials first; several faults: any of their answers). A request that leaves out or
varies a header the contract does not require (`http.variation`) is judged as the same request
without it, under UE-HTTP-02 too.
"""

from __future__ import annotations

from dataclasses import replace

from fpjs_conformance import evidence, rules, shapes
from fpjs_conformance.checks import Expectation, Violation, outcome_as_expected, verdict
from fpjs_conformance.model import READ, Events, Exchange, Request
from fpjs_conformance.profile import Profile

__all__ = ["Events", "expect", "judge"]


def expect(profile: Profile, request: Request, events: Events, *, also: tuple[str, ...] = ()) -> list[Expectation]:
    """Every clause the answer to `request` informs, and what each allows.

    `also` names clauses that judge the outcome as the leading body or id clause does (a
    schemathesis case is UE-BODY-08 as well as what its body is).
    """
    if request.op == READ:
        return []
    if rules.methods.undeclared(profile, request):
        return [rules.methods.expectation(profile, request)]
    id_fault = rules.lookalikes.fault(profile, request, events) or rules.ids.fault(profile, request, events)
    body_fault = rules.lenient.fault(profile, request.body) or rules.body.fault(profile, request)
    faults = [f for f in (id_fault, body_fault) if f is not None]
    hard = [f for f in faults if not f.soft]
    creds = rules.auth.assess(profile, request)
    varied = rules.http.variation(request)
    if creds.refusal is not None:
        out = [creds.refusal]
        if hard:
            out.append(rules.auth.first(creds.refusal))
        if creds.retired_valid and creds.refusal.clause_id != rules.auth.RETIRED_PLACE_REFUSED:
            out.append(rules.auth.retired_too(creds.refusal))
        if varied:
            out.append(rules.http.still_refused(creds.refusal, varied, profile.refusal_statuses))
        return out

    rate_limited = profile.role("rate_limited").statuses
    defer = rate_limited | (frozenset() if creds.ambiguous else profile.refusal_statuses)
    allowed: dict[int, frozenset[str] | None] = {}
    for fault in faults:
        _merge(allowed, fault.allowed)
    if not hard:
        allowed[200] = None
    kind = shapes.id_kind(profile, request.event_id, events)
    if hard and kind in (shapes.DESIGNATED, shapes.NOT_READY):
        _merge(allowed, profile.role("not_ready").answers)  # readiness may be checked before the body
    relaxed = any(f.relaxed for f in faults)
    if creds.ambiguous:
        _merge(allowed, creds.ambiguous_answers or {})
        lead = Expectation(creds.ambiguous, "keys in two places differ: either may win", allowed=allowed, defer=defer)
    elif not faults:
        clause = rules.transient.NOT_READY_CLEARS if kind == shapes.NOT_READY else rules.body.VALID_ACCEPTED
        lead = Expectation(clause, "a valid update", allowed=allowed, defer=defer, **_at_limit(profile, request))
    elif len(faults) == 1:
        fault = faults[0]
        lead = Expectation(
            fault.clause_id,
            fault.why or fault.clause_id,
            allowed=allowed,
            defer=frozenset() if relaxed else (rate_limited if fault.refusals_judged else defer),
            relaxed_codes=relaxed,
            should=fault.should,
            should_basis=fault.should_basis,
        )
    else:
        why = f"{', '.join(f.clause_id for f in faults)}: several faults, any of their answers"
        lead = Expectation(
            rules.left_open.SEVERAL_FAULTS,
            why,
            allowed=allowed,
            defer=frozenset() if relaxed else defer,
            relaxed_codes=relaxed,
        )
    out = [lead]
    out += [replace(lead, clause_id=c) for c in also]
    if not relaxed:
        out += list(creds.accepted)
    if varied:
        out.append(rules.http.same_answer(lead, varied))
    return out


def _at_limit(profile: Profile, request: Request) -> dict:
    """A valid update with a value at an undocumented limit: the `[at_limit]` role's answer breaks only the
    suite's judgement (SHOULD), any other refusal fails."""
    spec = evidence.at_limit(profile)
    fields = shapes.fields_at_limit(profile, request.body) if spec is not None else []
    if not fields:
        return {}
    return {"should": profile.role(spec.role).answers, "should_basis": spec.sources}


def _merge(allowed: dict[int, frozenset[str] | None], more) -> None:
    for status, codes in more.items():
        have = allowed.get(status, frozenset())
        allowed[status] = None if codes is None or have is None else have | codes


def judge(ex: Exchange, profile: Profile, expectations: list[Expectation]) -> list[tuple[str, Violation | None]]:
    """Every verdict one response gets: (clause, None) for a pass, (clause, violation) for a failure.

    Each clause the response informs is judged, so one response that breaks several clauses is
    recorded under each of them: the checks every response gets, then each expectation.
    """
    relaxed = any(e.relaxed_codes for e in expectations)
    if ex.error is not None:
        return [verdict(rules.transport.COMPLETE, rules.transport.transport_completed, ex, profile)]
    verdicts: list[tuple[str, Violation | None]] = []
    paired = ex.status in profile.undeclared_statuses and any(_names(e, ex.status) for e in expectations)
    # no answer of the operation: its responses' clauses are silent
    undeclared = rules.methods.undeclared(profile, ex.request)
    for fn in rules.UNIVERSAL:
        if relaxed and fn is rules.responses.code_fits_status:
            continue
        if undeclared and fn.__module__ == rules.responses.__name__:
            continue
        # a status a role allows by evidence, as that role's answer
        if paired and fn is rules.responses.status_declared:
            verdicts.append((rules.responses.DECLARED, None))
            continue
        verdicts.append(verdict(fn.clause_id, fn, ex, profile))  # type: ignore[attr-defined]
    for expectation in expectations:
        if expectation.judges(ex.status):
            verdicts.append(verdict(expectation.clause_id, outcome_as_expected, ex, expectation))
    return verdicts


def _names(expectation: Expectation, status: int | None) -> bool:
    """The expectation names `status` as an answer (allowed, or taken at SHOULD level), not merely leaves it."""
    return status in (expectation.allowed or {}) or status in (expectation.should or {})
