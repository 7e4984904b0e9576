"""Body: valid updates accepted (any subset of the fields, boundary lengths, unicode, nesting), every
malformed shape refused with 400 and the bad-request code."""

from fpjs_conformance import checks, strategies
from fpjs_conformance.clauses import clause
from fpjs_conformance.contract import explore, reckon, settle, updates


def _body_clause(target, clause_id, bodies=None, weight=1.0):
    reckon(target, clause_id)
    if bodies is not None:
        explore(target, clause_id, updates(target, bodies), weight=weight)
    settle(target, clause_id)


@clause("UE-BODY-01")
def test_valid_update_is_accepted(target):
    _body_clause(target, "UE-BODY-01", strategies.valid_bodies(target.profile))


@clause("UE-BODY-02")
def test_wrong_field_type_is_rejected(target):
    _body_clause(target, "UE-BODY-02", strategies.wrong_type_bodies(target.profile))


@clause("UE-BODY-03")
def test_non_object_json_is_rejected(target):
    _body_clause(target, "UE-BODY-03", strategies.non_object_bodies())


@clause("UE-BODY-04")
def test_malformed_or_non_utf8_body_is_rejected(target):
    _body_clause(target, "UE-BODY-04", strategies.malformed_bodies(target.profile))


@clause("UE-BODY-05")
def test_missing_body_is_rejected(target):
    _body_clause(target, "UE-BODY-05")


@clause("UE-BODY-06")
def test_values_past_limits_do_not_break_the_server(target):
    _body_clause(target, "UE-BODY-06", strategies.over_limit_bodies(target.profile), weight=0.5)


@clause("UE-BODY-07")
def test_body_without_known_field(target):
    _body_clause(target, "UE-BODY-07", strategies.empty_update_bodies(target.profile), weight=0.5)


def _schemathesis(target, clause_id, negative):
    reckon(target, clause_id)
    bodies = strategies.schemathesis_bodies(target.profile, negative=negative, event_id=target.events.live)

    def step(t, request):
        checks.raise_all(t.submit(request, also=(clause_id,)).violations)

    explore(target, clause_id, updates(target, bodies), step)
    settle(target, clause_id)


@clause("UE-BODY-08")
def test_schemathesis_positive_bodies(target):
    _schemathesis(target, "UE-BODY-08", negative=False)


@clause("UE-BODY-09")
def test_schemathesis_negative_bodies(target):
    _schemathesis(target, "UE-BODY-09", negative=True)
