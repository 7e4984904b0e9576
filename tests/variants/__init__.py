"""Server variants built from the reference server: broken ones (mutants) the suite must fail on,
and correct-but-different ones (controls) it must pass on.

Each variant overrides one step of `refserver.ReferenceServer`. Run one standalone with
`python -m tests.variants NAME --port 0` (same options as `fpjs-refserver`). The catalogue is
split by area (auth, body, request_id, response, semantics, transport, controls); see
docs/self-test.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from refserver import ReferenceServer


@dataclass(frozen=True)
class Variant:
    name: str
    kind: str  # "mutant" or "control"
    clauses: tuple[str, ...]  # for a mutant: the clauses a report may name when it is caught
    server: type[ReferenceServer]
    description: str


REGISTRY: dict[str, Variant] = {}


def mutant(name: str, *clauses: str):
    """Register a broken server: the suite must fail and name one of `clauses`."""

    def register(cls: type[ReferenceServer]) -> type[ReferenceServer]:
        _add(Variant(name, "mutant", clauses, cls, (cls.__doc__ or "").strip()))
        return cls

    return register


def control(name: str):
    """Register a correct-but-different server: the suite must pass."""

    def register(cls: type[ReferenceServer]) -> type[ReferenceServer]:
        _add(Variant(name, "control", (), cls, (cls.__doc__ or "").strip()))
        return cls

    return register


def _add(variant: Variant) -> None:
    if variant.name in REGISTRY:
        raise ValueError(f"duplicate variant {variant.name}")
    REGISTRY[variant.name] = variant


# Mutants the suite does not catch for the right reason yet: findings about the suite, not about
# the mutants. The self-test expects them to fail (xfail strict), so fixing the suite flags them.
KNOWN_GAPS: dict[str, str] = {}


def load_all() -> dict[str, Variant]:
    from tests.variants import auth, body, controls, request_id, response, semantics, transport  # noqa: F401

    return REGISTRY
