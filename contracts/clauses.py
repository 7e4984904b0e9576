"""The clause catalogue: id, requirement sentence, level, and the spec text it comes from."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

from contracts import spec

CATALOGUE_PATH = Path(__file__).with_name("clauses.toml")


@dataclass(frozen=True)
class Clause:
    id: str
    area: str
    level: str
    title: str
    requirement: str
    spec_pointer: str

    @property
    def spec_text(self) -> str:
        """The document text the clause comes from, quoted in reports."""
        node = spec.resolve_pointer(self.spec_pointer)
        if isinstance(node, str):
            return node.strip()
        return yaml.safe_dump(node, sort_keys=False, allow_unicode=True).strip()


@functools.cache
def catalogue() -> dict[str, Clause]:
    with CATALOGUE_PATH.open("rb") as fh:
        raw = tomllib.load(fh)
    return {cid: Clause(cid, e["area"], e["level"], e["title"], e["requirement"], e["spec"]) for cid, e in raw.items()}


def get(clause_id: str) -> Clause:
    return catalogue()[clause_id]


def clause(clause_id: str):
    """Mark a contract test with the clause it exercises (selectable with `-k <clause id>`)."""
    import pytest

    if clause_id not in catalogue():
        raise KeyError(f"unknown clause {clause_id!r}")
    return pytest.mark.clause(clause_id)
