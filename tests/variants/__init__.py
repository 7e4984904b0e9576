"""Server variants built from the reference server: broken ones (mutants) the suite must fail on,
and correct-but-different ones (controls) it must pass on.

Each variant overrides one step of `fpjs_conformance.refserver.ReferenceServer`. Steps take the
version's `Dialect`, so one variant is broken (or correct) under every API version it applies to:
by default the versions where one of its clauses applies, or those it names. Run one standalone
with `python -m tests.variants NAME --port 0` (same options as `fpjs-refserver`). The catalogue is
split by area (auth, body, request_id, response, semantics, transport, coverage, variety, state,
lenient, migration, controls, live); see docs/self-test.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpjs_conformance import clauses
from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import ReferenceServer


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str  # "mutant" or "control"
    clauses: tuple[str, ...]  # for a mutant: the clauses a report may name when it is caught
    server: type[ReferenceServer]
    description: str
    versions: tuple[str, ...]  # the API versions it is judged under
    coverage_only: bool = False  # a shape random generation all but never produces: only the table reaches it
    needs_exploration: bool = False  # killed only by random examples: judged under the default profile
    strict: bool = False  # breaks only what rests on the suite's judgement: killed under --strict (a warning without)


REGISTRY: dict[str, Variant] = {}


def _versions(clause_ids: tuple[str, ...], versions: tuple[str, ...] | None) -> tuple[str, ...]:
    if versions is not None:
        return versions
    known = profiles.versions()
    if not clause_ids:
        return known
    return tuple(v for v in known if any(clauses.get(c).applies_to(v) for c in clause_ids))


def mutant(
    name: str,
    *clause_ids: str,
    versions: tuple[str, ...] | None = None,
    coverage_only: bool = False,
    needs_exploration: bool = False,
    strict: bool = False,
):
    """Register a broken server: the suite must fail and name one of `clause_ids` under each version (with
    `strict`, under --strict: what it breaks rests on the suite's judgement, a warning without it)."""

    def register(cls: type[ReferenceServer]) -> type[ReferenceServer]:
        doc = (cls.__doc__ or "").strip()
        found = _versions(clause_ids, versions)
        _add(Variant(name, "mutant", clause_ids, cls, doc, found, coverage_only, needs_exploration, strict))
        return cls

    return register


def control(name: str, versions: tuple[str, ...] | None = None):
    """Register a correct-but-different server: the suite must pass under every version."""

    def register(cls: type[ReferenceServer]) -> type[ReferenceServer]:
        _add(Variant(name, "control", (), cls, (cls.__doc__ or "").strip(), _versions((), versions)))
        return cls

    return register


def _add(variant: Variant) -> None:
    if variant.name in REGISTRY:
        raise ValueError(f"duplicate variant {variant.name}")
    REGISTRY[variant.name] = variant


# Mutants the suite does not catch for the right reason yet: findings about the suite, not about
# the mutants. The self-test expects them to fail (xfail strict), so fixing the suite flags them.
KNOWN_GAPS: dict[str, str] = {}


def answer_of(d, role: str, status: int | None = None, code: str | None = None) -> tuple[int, str]:
    """(status, code) the dialect answers the error `role` with, unless a variant says otherwise."""
    return status or d.roles[role].status, code or d.roles[role].code


def load_all() -> dict[str, Variant]:
    from tests.variants import (  # noqa: F401
        auth,
        body,
        controls,
        coverage,
        lenient,
        live,
        migration,
        request_id,
        response,
        semantics,
        state,
        transport,
        variety,
        versions,
    )

    return REGISTRY
