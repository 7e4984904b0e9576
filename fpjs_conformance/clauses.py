"""The clause catalogue: one entry per clause, with the spec text it comes from in each version."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass

import yaml

from fpjs_conformance import evidence, sources
from fpjs_conformance import profile as profiles
from fpjs_conformance.operation import DEFAULT, OPERATIONS, Operation
from fpjs_conformance.profile import Profile
from fpjs_conformance.sources import Source


class CatalogueError(ValueError):
    """A clause whose pointer does not resolve in its version's document, or that names no usable source."""


@dataclass(frozen=True)
class Clause:
    id: str
    area: str
    level: str
    title: str
    requirement_template: str
    pointers: dict[str, str]  # version -> JSON pointer into that version's document
    sources: tuple[Source, ...] = ()  # what the clause rests on (`source`; "document": the pointers above)
    operation: str = DEFAULT  # the operation it judges (`operation`): the update, or the read-back

    @property
    def rests_on_judgement(self) -> bool:
        """Every source is the suite's judgement: a failure of the clause is reported at SHOULD level."""
        return sources.level(self.sources, self.level) == sources.SHOULD

    def source_records(self) -> list[dict[str, str]]:
        """The sources as report data; "document" names the clause's pointer in each version."""
        out = []
        for source in self.sources:
            if source.kind == "document" and not source.ref:
                out += [{"kind": "document", "ref": f"{v}: {p}"} for v, p in sorted(self.pointers.items())]
            else:
                out.append(source.as_record())
        return out

    def applies_to(self, version: str) -> bool:
        return version in self.pointers

    def requirement(self, profile: Profile) -> str:
        """The requirement sentence with the version's facts filled in."""
        return self.requirement_template.format_map(facts(profile))

    def judged(self, profile: Profile) -> Operation:
        """The operation of `profile` this clause judges."""
        return profile.operations[self.operation]

    def spec_text(self, profile: Profile) -> str:
        """The document text the clause comes from, quoted in reports."""
        return quote(profile, self.pointers[profile.version])


def quote(profile: Profile, pointer: str) -> str:
    """The text at a JSON pointer into the version's document, as reports quote it (YAML for a non-string)."""
    node = profile.pointer(pointer)
    if isinstance(node, str):
        return node.strip()
    return yaml.safe_dump(node, sort_keys=False, allow_unicode=True).strip()


@functools.cache
def catalogue() -> dict[str, Clause]:
    """The catalogue, with the pointers of any version of your own (`clauses.toml` beside its profile in
    a folder of $FPJS_PROFILE_PATH: `[UE-AUTH-01] spec.v5 = "..."`; `extends = "v4"` at its top gives the
    folder's versions every pointer of v4 they do not give themselves)."""
    found: dict[str, Clause] = {}
    for folder in profiles.data_dirs():
        path = folder / "clauses.toml"
        if not path.is_file():
            continue
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        base = raw.pop("extends", None)  # the folder's versions take that version's pointers, where they give none
        for cid, e in raw.items():
            if cid in found:
                found[cid].pointers.update(e.get("spec", {}))
            else:
                try:
                    named = sources.parse_all(e.get("source"), f"{path}: {cid}")
                except sources.SourceError as exc:
                    raise CatalogueError(str(exc)) from None
                pointers = dict(e.get("spec", {}))
                judged = e.get("operation", DEFAULT)
                if judged not in OPERATIONS:
                    raise CatalogueError(f"{path}: {cid} operation = {judged!r}: give one of {', '.join(OPERATIONS)}")
                found[cid] = Clause(cid, e["area"], e["level"], e["title"], e["requirement"], pointers, named, judged)
        if base is not None:
            for version in profiles.profile_names(folder):
                for clause in found.values():
                    if base in clause.pointers:
                        clause.pointers.setdefault(version, clause.pointers[base])
    return found


def server_clauses() -> dict[str, Clause]:
    """The clauses a run against a server judges: a client's (level CLIENT) are the proxy's to judge."""
    return {cid: c for cid, c in catalogue().items() if c.level != "CLIENT"}


def check_pointers(version: str) -> None:
    """Every clause that applies to `version` points at text its document has, and so does each document
    source it names (one line if not); the profile's roles and limits were checked as it loaded, its other
    evidence tables are here."""
    profile = profiles.load(version)
    try:
        evidence.check(profile)
    except profiles.ProfileError as exc:
        raise CatalogueError(str(exc)) from None
    for clause in catalogue().values():
        pointer = clause.pointers.get(version)
        if pointer is None:
            continue
        documents = [s.ref for s in clause.sources if s.kind == "document" and s.ref]
        for where, each in ((f"spec.{version}", pointer), *((f"source ({version})", d) for d in documents)):
            try:
                profile.pointer(each)
            except (KeyError, IndexError, ValueError, TypeError):
                raise CatalogueError(
                    f"clauses.toml: {clause.id} {where} = {each!r} is not in {profile.document_name}"
                ) from None
        elsewhere = _other_operation(clause.judged(profile), pointer)
        if elsewhere:
            raise CatalogueError(
                f"clauses.toml: {clause.id} spec.{version} = {pointer!r} is the text of {elsewhere}, but the clause "
                f"judges the {clause.operation} ({clause.judged(profile).method} {clause.judged(profile).path}): "
                "give it `operation`"
            )


def _other_operation(judged: Operation, pointer: str) -> str | None:
    """The operation a pointer into the document's paths (`/paths/<path>/<method>/...`) names, when it is not
    the one the clause judges."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    if len(parts) < 3 or parts[0] != "paths" or parts[2].upper() not in profiles.HTTP_METHODS:
        return None
    path, method = parts[1], parts[2].upper()
    return None if (path, method) == (judged.path, judged.method) else f"{method} {path}"


def get(clause_id: str) -> Clause:
    return catalogue()[clause_id]


def applicable(version: str) -> list[str]:
    """The clauses a run judges in `version`."""
    return [cid for cid, c in server_clauses().items() if c.applies_to(version)]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _answer(role) -> str:
    parts = [f"{s} {'/'.join(sorted(c))}" if c else str(s) for s, c in sorted(role.answers.items())]
    return " or ".join(parts)


@functools.cache
def facts(profile: Profile) -> dict[str, str]:
    """The names a requirement template may use, for one version."""
    header = next((p for p in profile.key_places if p.location == "header"), None)
    query = next((p for p in profile.key_places if p.location == "query"), None)
    codes = profile.codes_by_status
    roles = profile.roles
    return {
        **{name: role.code for name, role in roles.items()},
        **{f"{name}_codes": " or ".join(sorted(role.codes)) for name, role in roles.items()},
        **{f"{name}_answer": _answer(role) for name, role in roles.items()},
        "places": _and([p.describe() for p in profile.key_places]),
        "header": header.describe() if header else "a header",
        "header_field": header.field if header else "",
        "scheme": (header.scheme or "") if header else "",
        "query": query.describe() if query else "a query parameter",
        "retired": _and([p.describe() for p in profile.retired_places]) if profile.retired_places else "none",
        "fields": _and(list(profile.fields)),
        "object_fields": _and(profile.fields_of_type("object")) or "object",
        "body_schema": profile.body_schema_name,
        "limits": " or ".join(limit.describe() for limit in profile.limits.values()),
        "window": f"{profile.update_window_days} days",
        "empty_update_statuses": " or ".join(str(s) for s in sorted(roles["empty_update"].statuses)),
        "statuses": ", ".join(str(s) for s in sorted(profile.declared_statuses)),
        "undeclared": "".join(
            f", or {s} {'/'.join(sorted(r.answers[s] or ()))} as the answer of the {r.name} role only (the vendor's "
            "own documents pair them)"
            for r in roles.values()
            for s in sorted(r.undeclared)
        ),
        "error_statuses": ", ".join(str(s) for s in sorted(profile.error_statuses)),
        "codes_by_status": "; ".join(f"{s} {' or '.join(sorted(c))}" for s, c in sorted(codes.items())),
        "undeclared_methods": ", ".join(profile.undeclared_methods),
        "read_back": f"{profile.read_back_method} {profile.read_back_path}",
        "read_back_schema": profile.read_back_schema_name,
        "changes_on_its_own": _and(list(profile.read_back_changes)) if profile.read_back_changes else "none",
        "sdk": ", ".join([*(f"the {k} query parameter" for k in profile.sdk_query), *profile.sdk_headers]) or "nothing",
    }


def clause(clause_id: str):
    """Mark a contract test with the clause it exercises (selectable with `-k <clause id>`)."""
    import pytest

    if clause_id not in catalogue():
        raise KeyError(f"unknown clause {clause_id!r}")
    return pytest.mark.clause(clause_id)
