"""The registry of the clause rules, which the `fpjs_conformance.rules.<family>` modules fill.

A family module (`auth`, `body`, `ids`, `left_open`, `semantics`, `transient`, `responses`,
`transport`) declares its clauses with `clause(...)` and, next to each, what the clause needs:

    WRONG_KEY = clause("UE-AUTH-03")            # the id, checked against the catalogue

    @cases                                      # its coverage cases, built from a Table
    def wrong_keys(t: Table) -> Iterator[Case]: ...

    @explores(WRONG_KEY)                        # its random examples (a Hypothesis strategy)
    def random_wrong_keys(t: Table): ...

    @check(RESPONSE_CODE, universal=True)       # a check every response gets

The oracle asks the families what a request's answer may be (`auth.assess`, `body.fault`,
`ids.fault`); `table_run` walks every family's cases; the contract test of a clause asks its rule
what it needs, what to explore and how. Adding a clause: its catalogue entry in
`contracts/clauses.toml`, its rule here, the reference server's behaviour, and a mutant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fpjs_conformance import checks
from fpjs_conformance.clauses import catalogue

# What a clause may need from the run beyond the key and the designated event.
NEEDS = {
    "wrong_region_key": "needs --wrong-region-api-key (FPJS_WRONG_REGION_API_KEY)",
    "expired_event": "needs --expired-request-id (FPJS_EXPIRED_REQUEST_ID)",
    "not_ready_event": "needs --not-ready-request-id (FPJS_NOT_READY_REQUEST_ID): an event that answers 409 first",
    "foreign_event": "needs --foreign-request-id (FPJS_FOREIGN_REQUEST_ID): an event of another workspace",
    "read_back": "the target serves no read-back of the designated event",
}
# How a random example is sent: `submit` (a request, judged), `also` (a request, judged under the
# clause too, whatever else it is), `case` (a Case: sent and read back like a coverage case).
STEPS = ("submit", "also", "case")


@dataclass
class Exploring:
    strategy: Callable[[Any], Any]  # Table -> SearchStrategy
    step: str = "submit"
    weight: float = 1.0


@dataclass
class Rule:
    clause_id: str
    family: str
    needs: tuple[str, ...] = ()
    exploring: Exploring | None = None
    checks: list[Callable[..., None]] = field(default_factory=list)


RULES: dict[str, Rule] = {}
CASE_MAKERS: list[tuple[str, Callable[[Any], Iterable[Any]]]] = []  # (family, Table -> cases), in order
UNIVERSAL: list[Callable[..., None]] = []  # checks every response gets, in order


def _family(fn_or_module: str) -> str:
    return fn_or_module.rsplit(".", 1)[-1]


def clause(clause_id: str, *, needs: tuple[str, ...] = ()) -> str:
    """Declare the rule of a clause in its family module; the id back, for the module's constants."""
    import inspect

    if clause_id not in catalogue():
        raise KeyError(f"rule for {clause_id!r}: no such clause in contracts/clauses.toml")
    unknown = [n for n in needs if n not in NEEDS]
    if unknown:
        raise KeyError(f"rule for {clause_id!r}: unknown needs {unknown}")
    module = inspect.currentframe().f_back.f_globals["__name__"]  # type: ignore[union-attr]
    if clause_id in RULES:
        raise KeyError(f"rule for {clause_id!r} declared twice ({RULES[clause_id].family}, {_family(module)})")
    RULES[clause_id] = Rule(clause_id, _family(module), needs)
    return clause_id


def cases(fn: Callable[[Any], Iterable[Any]]) -> Callable[[Any], Iterable[Any]]:
    """Register a maker of coverage cases (Table -> cases), in definition order."""
    CASE_MAKERS.append((_family(fn.__module__), fn))
    return fn


def explores(clause_id: str, *, step: str = "submit", weight: float = 1.0):
    """Register the random examples of a clause: a function Table -> SearchStrategy."""
    if step not in STEPS:
        raise ValueError(f"step must be one of {STEPS}")

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        RULES[clause_id].exploring = Exploring(fn, step, weight)
        return fn

    return register


def check(clause_id: str | None, *, universal: bool = False):
    """A check function of a family (see `checks.check`); `universal`: every response gets it."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        wrapped = checks.check(clause_id)(fn)
        if clause_id is not None:
            RULES[clause_id].checks.append(wrapped)
        if universal:
            UNIVERSAL.append(wrapped)
        return wrapped

    return register


def get(clause_id: str) -> Rule:
    return RULES[clause_id]


def check_functions() -> dict[str, str | None]:
    """Every check function (marked by `checks.check`) -> its fixed clause id (None: the clause varies)."""
    out = {fn.__name__: fn.clause_id for rule in RULES.values() for fn in rule.checks}
    out.update({fn.__name__: None for fn in checks.GENERIC})
    return out
