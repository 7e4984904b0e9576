"""Response shape: every status declared, no 5xx, every error body a JSON ErrorResponse whose code fits.

These clauses judge every response of the run, wherever it was sent; their tests run last, so each
verdict covers the whole run.
"""

import pytest

from fpjs_conformance.clauses import clause
from fpjs_conformance.contract import reckon, settle

RESPONSE_CLAUSES = ["UE-RESP-01", "UE-RESP-02", "UE-RESP-03", "UE-RESP-04", "UE-RESP-05"]


@pytest.mark.parametrize("clause_id", [pytest.param(c, marks=clause(c), id=c) for c in RESPONSE_CLAUSES])
def test_every_response_keeps_the_shape(target, clause_id):
    reckon(target, clause_id)
    settle(target, clause_id)
