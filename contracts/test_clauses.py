"""The contract tests: one per clause of the catalogue (`contracts/clauses.toml`) and API version.

Each is named by its clause id (`pytest -k "UE-AUTH-03 and v4"`). What a clause sends, expects,
explores and needs is its rule's (`fpjs_conformance.rules`); every response of the run is judged
by every clause it informs, wherever it was sent.
"""

import pytest

from fpjs_conformance.clauses import clause, server_clauses
from fpjs_conformance.contract import judge_clause


@pytest.mark.parametrize("clause_id", [pytest.param(c, marks=clause(c), id=c) for c in server_clauses()])
def test_clause(target, clause_id):
    judge_clause(target, clause_id)
