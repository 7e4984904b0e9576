"""Known deviations: clauses a given target is known to break, so that its run can still gate regressions.

A failure made only of listed clauses is expected; anything else still fails. A listed clause that
the run exercised without a single violation is stale (the target was fixed, or the entry is wrong),
and an entry past its `expires` date is due for review: both fail the run, so the list cannot rot.
The format is documented at the top of `known-deviations.toml`. Pure: no pytest, no I/O but reading
the file.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpjs_conformance.profile import data_dir

DEFAULT_PATH = Path(str(data_dir() / "known-deviations.toml"))
NONE = "none"  # `--deviations none`: apply no deviation set, not even one matched by base URL
ENTRY_KEYS = {"reason", "link", "expires"}
SET_KEYS = {"base_url", "description", "deviations", "versions"}


class DeviationError(ValueError):
    """The file is malformed, or no single deviation set can be chosen."""


@dataclass(frozen=True)
class Deviation:
    deviation_set: str
    clause_id: str
    reason: str
    link: str
    expires: dt.date  # the last day the entry holds

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def describe(self) -> str:
        until = f"deviation set {self.deviation_set!r}, until {self.expires}"
        return f"{self.clause_id} ({until}): {self.reason} [{self.link}]"


@dataclass(frozen=True)
class DeviationSet:
    """A named set of known deviations of one target (a `[name]` table of the file)."""

    name: str
    base_url: str | None = None  # a glob matched against the target's base URL
    description: str = ""
    deviations: Mapping[str, Deviation] = field(default_factory=dict)
    versions: tuple[str, ...] | None = None  # the API versions it applies to (None: all)

    def applies_to(self, version: str) -> bool:
        return self.versions is None or version in self.versions

    def matches(self, base_url: str) -> bool:
        return self.base_url is not None and fnmatch.fnmatchcase(base_url.rstrip("/"), self.base_url.rstrip("/"))

    def expired(self, today: dt.date) -> list[Deviation]:
        return [d for d in self.deviations.values() if d.expired(today)]

    def covering(self, clause_ids: Iterable[str]) -> list[Deviation] | None:
        """The entries that explain a failure with these violated clauses; None unless all are listed."""
        ids = sorted(set(clause_ids))
        if not ids or any(cid not in self.deviations for cid in ids):
            return None
        return [self.deviations[cid] for cid in ids]

    def stale(self, passed: Mapping[str, int], violated: Iterable[str]) -> list[Deviation]:
        """Listed clauses the run exercised (passed > 0) without any violation."""
        hit = set(violated)
        return [d for cid, d in sorted(self.deviations.items()) if passed.get(cid, 0) > 0 and cid not in hit]


MAX_FILE = 1024 * 1024  # bytes read of a known-deviations file at most (a device or a huge file is refused)


def load(path: Path = DEFAULT_PATH, known_clauses: Iterable[str] | None = None) -> dict[str, DeviationSet]:
    """Every deviation set in `path`, checked: unknown keys, clauses and non-date `expires` are errors."""
    try:
        if not Path(path).is_file():
            raise DeviationError(f"{path}: not a regular file")
        with Path(path).open("rb") as fh:
            data = fh.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise DeviationError(f"{path}: larger than {MAX_FILE} bytes; not a known-deviations file")
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeviationError(f"{path}: not valid TOML (UTF-8 text): {exc}") from None
    except OSError as exc:
        raise DeviationError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    known = set(known_clauses) if known_clauses is not None else None
    return {name: _deviation_set(path, name, body, known) for name, body in raw.items()}


def _deviation_set(path: Path, name: str, body: Any, known: set[str] | None) -> DeviationSet:
    where = f"{path}: deviation set {name!r}"
    if not isinstance(body, dict):
        raise DeviationError(f"{where}: must be a table ([{name}])")
    _only(where, body, SET_KEYS)
    base_url = body.get("base_url")
    if base_url is not None and not (isinstance(base_url, str) and base_url):
        raise DeviationError(f"{where}: base_url must be a non-empty string (a glob such as 'http://127.0.0.1:4010*')")
    versions = body.get("versions")
    if versions is not None and not (isinstance(versions, list) and all(isinstance(v, str) for v in versions)):
        raise DeviationError(f'{where}: versions must be a list of API versions such as ["v3"]')
    entries = body.get("deviations", {})
    if not isinstance(entries, dict):
        raise DeviationError(f"{where}: deviations must be a table of clause ids")
    found = {}
    for clause_id, entry in entries.items():
        at = f"{where}, clause {clause_id}"
        if known is not None and clause_id not in known:
            raise DeviationError(f"{at}: unknown clause id (see contracts/clauses.toml)")
        if not isinstance(entry, dict):
            raise DeviationError(f"{at}: must be a table with reason, link and expires")
        _only(at, entry, ENTRY_KEYS)
        missing = sorted(ENTRY_KEYS - set(entry))
        if missing:
            raise DeviationError(f"{at}: missing {', '.join(missing)}")
        for key in ("reason", "link"):
            if not (isinstance(entry[key], str) and entry[key].strip()):
                raise DeviationError(f"{at}: {key} must be a non-empty string")
        expires = entry["expires"]
        if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
            raise DeviationError(f"{at}: expires must be a TOML date such as 2026-06-30 (unquoted)")
        found[clause_id] = Deviation(name, clause_id, entry["reason"].strip(), entry["link"].strip(), expires)
    return DeviationSet(name, base_url, str(body.get("description", "")), found, tuple(versions) if versions else None)


def _only(where: str, table: dict, allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise DeviationError(f"{where}: unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")


def select(
    sets: Mapping[str, DeviationSet], names: str | None, base_url: str | None, version: str
) -> DeviationSet | None:
    """The deviation set for one API version: among those named by --deviations (comma-separated), else
    among those whose base_url glob matches the target, the one that applies to `version`."""
    if names:
        chosen = [n.strip() for n in names.split(",") if n.strip()]
        if any(n.lower() == NONE for n in chosen):
            return None
        unknown = [n for n in chosen if n not in sets]
        if unknown:
            known = ", ".join(sorted(sets)) or "none defined"
            raise DeviationError(f"--deviations {unknown[0]!r}: no such deviation set (known: {known}; or {NONE!r})")
        candidates = [sets[n] for n in chosen]
    elif base_url:
        candidates = [s for s in sets.values() if s.matches(base_url)]
    else:
        return None
    applicable = [p for p in candidates if p.applies_to(version)]
    if len(applicable) > 1:
        found = ", ".join(p.name for p in applicable)
        raise DeviationError(f"several deviation sets apply to {version} ({found}): pick one with --deviations")
    return applicable[0] if applicable else None
