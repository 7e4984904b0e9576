"""Transport: every request gets a complete, well-formed answer within the timeout and the size cap."""

from fpjs_conformance.clauses import clause
from fpjs_conformance.contract import reckon, settle


@clause("UE-TRANSPORT-01")
def test_every_request_is_answered_completely(target):
    reckon(target, "UE-TRANSPORT-01")
    settle(target, "UE-TRANSPORT-01")
