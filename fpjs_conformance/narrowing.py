"""A narrowed run (`-k`, `--deselect`, node ids, `-m`): which clauses it did not fully judge.

A pytest run that selects only some clauses of a version sends only their coverage cases and random
examples. A clause it did not select saw only those requests, and so did every clause each response
informs (the universal checks: declared status, no 5xx, error bodies, the transport): neither is
judged as a full run judges it, so neither may read as passed, nor as a stale known deviation. A
violation found is real whatever was selected. Such a run may still exit 0, as a rerun of one clause
should, but its result is `partial`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fpjs_conformance import clauses, rules


def universal() -> frozenset[str]:
    """The clauses every response informs."""
    return frozenset(fn.clause_id for fn in rules.UNIVERSAL)  # type: ignore[attr-defined]


def narrowed(selected: Mapping[str, set[str]], versions: Iterable[str]) -> dict[str, list[str]]:
    """version -> the catalogue's clauses that apply to it and the run did not select. Empty when every
    clause of every version was selected, or when nothing was (the commands select no test)."""
    if not selected:
        return {}
    out = {}
    for version in versions:
        applies = {cid for cid, c in clauses.server_clauses().items() if c.applies_to(version)}
        left = sorted(applies - set(selected.get(version, set())))
        if left:
            out[version] = left
    return out


def partly_judged(selected: Mapping[str, set[str]], version: str) -> frozenset[str]:
    """The clauses of `version` a narrowed run judged only in part: those it did not select, and the
    universal ones. Empty for a run that was not narrowed."""
    if not narrowed(selected, [version]):
        return frozenset()
    chosen = set(selected.get(version, set()))
    every = {cid for cid, c in clauses.server_clauses().items() if c.applies_to(version)}
    return frozenset((every - chosen) | (every & universal()))
