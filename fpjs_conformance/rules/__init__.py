"""Each clause's rule, in the module of its family: the one place a clause id is written in code.

A family module (`auth`, `body`, `http`, `ids`, `left_open`, `semantics`, `transient`, `responses`,
`transport`, `state` (the read-back as a whole), `methods`, `lenient` (what only lenient parsers
take), `lookalikes` (ids that lead elsewhere), and `client` for what clients send, judged by the
proxy) declares its clauses with
`registry.clause(...)` and, next to each, what the clause needs: its coverage cases (`@cases`, built
from a `Table`), its random examples (`@explores`), its checks (`@check`, `universal=True` for those
every response gets). The oracle asks the families
what a request's answer may be (`auth.assess`, `body.fault`, `ids.fault`); `table_run` walks every
family's cases; the contract test of a clause asks its rule what it needs and what to explore.

Importing this package loads every family; `table_run.FAMILY_ORDER` orders their cases, and
`UNIVERSAL_ORDER` below the checks every response gets.
"""

from fpjs_conformance.clauses import catalogue
from fpjs_conformance.registry import CASE_MAKERS, RULES, UNIVERSAL, check_functions, get
from fpjs_conformance.rules import (
    auth,
    body,
    client,
    http,
    ids,
    left_open,
    lenient,
    lookalikes,
    methods,
    responses,
    semantics,
    state,
    transient,
    transport,
)

# The checks every response gets, in the order they judge it: whether an answer came at all, then
# whether it is a 429 left after the waits, then its shape (stable: a family's own order is kept).
UNIVERSAL_ORDER = ("transport", "transient", "responses")
UNIVERSAL.sort(key=lambda fn: UNIVERSAL_ORDER.index(fn.__module__.rsplit(".", 1)[-1]))

_missing = sorted(set(catalogue()) - set(RULES))
if _missing:
    raise KeyError(f"clauses without a rule in fpjs_conformance/rules: {', '.join(_missing)}")

__all__ = [
    "CASE_MAKERS",
    "RULES",
    "UNIVERSAL",
    "auth",
    "body",
    "check_functions",
    "client",
    "get",
    "http",
    "ids",
    "left_open",
    "lenient",
    "lookalikes",
    "methods",
    "responses",
    "semantics",
    "state",
    "transient",
    "transport",
]
