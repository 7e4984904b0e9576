"""The profile's evidence tables beyond roles and limits: the aliases the vendor itself uses, and what a
value exactly at an undocumented limit may get.

    [aliases]    tags = { field = "tag", source = "vendor:..." }   (v3: the live message names `tags`)
    [at_limit]   role = "too_large", source = "judgement:..."

Read and checked before any request (`check`, from `clauses.check_pointers`). Pure data: the oracle
asks `at_limit`, the target asks `aliases` when a read-back differs, the reports show both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from fpjs_conformance import sources
from fpjs_conformance.profile import Profile, ProfileError
from fpjs_conformance.sources import Source


@dataclass(frozen=True)
class Alias:
    name: str  # the name the document does not give
    field: str  # the body field it would stand for
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class AtLimit:
    role: str  # the role whose answer a value at the limit may get
    sources: tuple[Source, ...]


@functools.cache
def aliases(profile: Profile) -> dict[str, Alias]:
    """Name -> the alias of a body field the vendor itself uses (`[aliases]`)."""
    out = {}
    for name, spec in profile.data.get("aliases", {}).items():
        where = f"{profile.version}.toml [aliases] {name}"
        if not isinstance(spec, dict) or spec.get("field") not in profile.fields or name in profile.fields:
            raise ProfileError(f"{where}: give `field = <a body field>` for a name that is not one")
        out[name] = Alias(name, spec["field"], _parsed(spec.get("source"), where))
    return out


@functools.cache
def at_limit(profile: Profile) -> AtLimit | None:
    """What a value at an undocumented limit may get instead of 200 (`[at_limit]`), if the profile says."""
    spec = profile.data.get("at_limit")
    if spec is None:
        return None
    where = f"{profile.version}.toml [at_limit]"
    if spec.get("role") not in profile.roles:
        raise ProfileError(f"{where}: `role` must name one of [roles]")
    return AtLimit(spec["role"], _parsed(spec.get("source"), where))


def check(profile: Profile) -> None:
    """Every evidence table of the profile parses and names its sources (ProfileError, one line, if not)."""
    aliases(profile)
    at_limit(profile)


def _parsed(value: object, where: str) -> tuple[Source, ...]:
    try:
        return sources.parse_all(value, where)
    except sources.SourceError as exc:
        raise ProfileError(str(exc)) from None
