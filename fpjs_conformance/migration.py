"""Moving a client from one API version to its successor, as data: what differs, how a request maps, and
what its answer means.

The successor's profile file says which kinds of difference there are, on which side (`client`: the
client's own code must change; `server`: the same request gets another answer) and where each is written
(`[migration]`, a JSON pointer into each document or a note). What each difference is comes from the two
profiles: the update's method and path, the field names (`[fields]`), the key places, each role's code
and statuses (`[roles]`), the update window, Retry-After. A kind whose facts are the same in both
versions, or facts that differ with no kind, is refused (`MigrationError`), so the data cannot go stale.

A request maps to the successor by the same facts: its body's field names renamed through the stored
names (`to_store`, `to_wire`; a key that is a field only in the successor takes the older name, so an
unknown key stays unknown), its key taken to the successor's declared place (a key under a name that is
no key place keeps its wire form), the rest unchanged byte for byte. An answer's meaning is its status
and the error roles its code stands for in its version, not the code's spelling. Pure: no I/O.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fpjs_conformance import clauses
from fpjs_conformance import profile as profiles
from fpjs_conformance.model import DOCUMENTED, UPDATE, Body, Credential, Credentials, Request
from fpjs_conformance.profile import KeyPlace, Profile

CLIENT, SERVER = "client", "server"
NOTES = "notes"  # a source that is no document: the fact, and where it is written
# The kinds of change; the documented ones are those a profile's [migration] names.
METHOD, PATH, FIELD, KEY, CODE, RETRY = "method", "path", "field-name", "key-place", "error-code", "retry-after"
ROLE_STATUS, WINDOW = "role-status", "window"
OUTCOME, UNKNOWN_CODE, READ_BACK = "outcome", "unknown-code", "read-back"  # never documented: unexpected
EXPIRED = "expired_event"  # the role an update past the window plays


class MigrationError(ValueError):
    """A `[migration]` section that disagrees with the two profiles or their documents."""


def _places(p: Profile) -> dict[str, str]:
    return {"": ", ".join(place.describe() for place in p.key_places)}


# Each kind's facts, read from a profile: item -> value. An item whose values differ is a difference.
FACTS: dict[str, Callable[[Profile], dict[str, Any]]] = {
    METHOD: lambda p: {"": p.update_method},
    PATH: lambda p: {"": p.server_path + p.update_path},
    FIELD: lambda p: {store: wire for wire, store in p.field_names.items()},
    KEY: _places,
    CODE: lambda p: {name: role.code for name, role in p.roles.items()},
    RETRY: lambda p: {"": "a 429 carries Retry-After" if p.retry_after else "a 429 carries no Retry-After"},
    ROLE_STATUS: lambda p: {
        name: [role.status, *sorted(role.statuses - {role.status})] for name, role in p.roles.items()
    },
    WINDOW: lambda p: {"": f"{p.update_window_days} days"},
}


@dataclass(frozen=True)
class Difference:
    """One documented kind of difference: its items (item, before, after) and the text it comes from."""

    kind: str
    side: str
    items: tuple[tuple[str, Any, Any], ...]
    sources: dict[str, str]  # version or "notes" -> JSON pointer, or the note
    quotes: dict[str, str]  # the same keys -> the text quoted

    def item(self, key: str) -> tuple[str, Any, Any] | None:
        return next((i for i in self.items if i[0] == key), None)

    def as_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "side": self.side,
            "items": [{"item": k, "before": b, "after": a} for k, b, a in self.items],
            "sources": self.sources,
            "quotes": self.quotes,
        }


@dataclass(frozen=True)
class Migration:
    """From one version (`source`) to its successor (`target`): the documented differences and the renames."""

    source: Profile
    target: Profile
    differences: dict[str, Difference]
    guide: str = ""

    def documented(self, kind: str, item: str | None = None) -> bool:
        found = self.differences.get(kind)
        return found is not None and (item is None or found.item(item) is not None)

    @functools.cached_property
    def renames(self) -> dict[str, str]:
        """Body field name -> the same stored field's name in the other version: the source's names forward,
        and a name only the target has back to the source's (an unknown key stays unknown)."""
        forward = {n: next(iter(self.target.to_wire(self.source.to_store({n: 0})))) for n in self.source.fields}
        back = {
            n: next(iter(self.source.to_wire(self.target.to_store({n: 0}))))
            for n in self.target.fields
            if n not in self.source.fields
        }
        out = {k: v for k, v in {**forward, **back}.items() if k != v}
        if len(set(out.values())) != len(out):
            raise MigrationError(f"{self.target.version}.toml: [fields] rename two names to one")
        return out

    @property
    def forward(self) -> dict[str, str]:
        return {k: v for k, v in self.renames.items() if k in self.source.fields}


@functools.cache
def load(version: str) -> Migration:
    """The migration to `version` from the version its profile names (`[migration] from`)."""
    target = profiles.load(version)
    spec = target.data.get("migration")
    if not isinstance(spec, dict) or "from" not in spec:
        raise MigrationError(f"{version}.toml has no [migration] section: no version migrates to {version}")
    source = profiles.load(spec["from"])
    where = f"{version}.toml [migration]"
    given = dict(spec.get("differences", {}))
    unknown = sorted(set(given) - set(FACTS))
    if unknown:
        raise MigrationError(f"{where}: unknown kinds {', '.join(unknown)} (known: {', '.join(FACTS)})")
    found: dict[str, Difference] = {}
    for kind, read in FACTS.items():
        before, after = read(source), read(target)
        items = tuple(
            (k, before.get(k), after.get(k)) for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)
        )
        if bool(items) != (kind in given):
            state = "differ between" if items else "are the same in"
            raise MigrationError(
                f"{where}: the {kind} facts {state} {source.version} and {version}: "
                f"{'add' if items else 'remove'} [migration.differences.{kind}]"
            )
        if items:
            found[kind] = _difference(kind, given[kind], items, {source.version: source, version: target}, where)
    return Migration(source, target, found, str(spec.get("guide", "")))


def _difference(kind: str, spec: dict, items: tuple, versions: dict[str, Profile], where: str) -> Difference:
    side, sources, excerpts = spec.get("side"), dict(spec.get("source", {})), dict(spec.get("excerpt", {}))
    if side not in (CLIENT, SERVER) or not sources:
        raise MigrationError(f'{where}: {kind} needs side = "client" or "server" and at least one source')
    quotes = {}
    for name, text in sources.items():
        if name == NOTES:
            quotes[name] = text
            continue
        if name not in versions:
            raise MigrationError(f"{where}: {kind} source.{name}: a source is one of the two versions or `notes`")
        try:
            quotes[name] = clauses.quote(versions[name], text)
        except (KeyError, IndexError, ValueError, TypeError):
            raise MigrationError(f"{where}: {kind} source.{name} = {text!r} is not in its document") from None
        if name in excerpts:  # the sentence that says it: it must be in the text quoted
            if " ".join(excerpts[name].split()) not in " ".join(quotes[name].split()):
                raise MigrationError(f"{where}: {kind} excerpt.{name} is not in the text at {text}")
            quotes[name] = excerpts[name]
    return Difference(kind, side, items, sources, quotes)


def successor(version: str) -> str | None:
    """The version whose profile migrates from `version`, if any."""
    for other in profiles.versions():
        spec = profiles.load(other).data.get("migration")
        if isinstance(spec, dict) and spec.get("from") == version:
            return other
    return None


# -- mapping a request --------------------------------------------------------------------------------
_WHITE = b" \t\r\n"


def _skip(raw: bytes, i: int) -> int:
    while i < len(raw) and raw[i] in _WHITE:
        i += 1
    return i


def _string_end(raw: bytes, i: int) -> int:
    """Past the closing quote of the JSON string at `i`, or -1."""
    i += 1
    while i < len(raw):
        if raw[i] == 0x5C:  # a backslash: the next byte is escaped
            i += 2
        elif raw[i] == 0x22:
            return i + 1
        else:
            i += 1
    return -1


def _value_end(raw: bytes, i: int) -> int:
    """The `,` or `}` that ends a member's value starting at `i` (depth 0), or -1."""
    depth = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x22:
            i = _string_end(raw, i)
            if i < 0:
                return -1
            continue
        if c in b"[{":
            depth += 1
        elif c in b"]}":
            if depth == 0:
                return i if c == 0x7D else -1
            depth -= 1
        elif c == 0x2C and depth == 0:
            return i
        i += 1
    return -1


def rename_keys(raw: bytes, names: Mapping[str, str]) -> tuple[bytes, list[tuple[str, str]]]:
    """The top-level member names of a JSON object renamed by `names`, every other byte kept (spacing,
    escapes, order, repeats); (the bytes, the renames made). Bytes that stop being an object after some
    members keep those members renamed and the rest as they are; anything else is returned unchanged."""
    i = _skip(raw, 0)
    if not names or i >= len(raw) or raw[i] != 0x7B:
        return raw, []
    out, done, copied = bytearray(), [], 0
    i += 1
    while True:
        i = _skip(raw, i)
        if i >= len(raw) or raw[i] != 0x22:
            break
        end = _string_end(raw, i)
        if end < 0:
            break
        try:
            name = json.loads(raw[i:end])
        except (ValueError, UnicodeDecodeError, RecursionError):
            name = None
        if isinstance(name, str) and name in names:
            out += raw[copied:i] + json.dumps(names[name]).encode("ascii")
            copied = end
            done.append((name, names[name]))
        i = _skip(raw, end)
        if i >= len(raw) or raw[i] != 0x3A:
            break
        j = _value_end(raw, i + 1)
        if j < 0 or raw[j] == 0x7D:
            break
        i = j + 1
    out += raw[copied:]
    return bytes(out), done


def map_body(m: Migration, body: Body) -> Body:
    """The body with its field names in the target's names (nothing else changed)."""
    raw = body.encode()
    if raw is None:
        return body
    new, done = rename_keys(raw, m.renames)
    return Body.decoded(new) if done else body


def _same(place: KeyPlace, other: KeyPlace) -> bool:
    return (place.location, place.field.lower() if place.location == "header" else place.field, place.scheme) == (
        other.location,
        other.field.lower() if other.location == "header" else other.field,
        other.scheme,
    )


def _reads_key_at(p: Profile, location: str, name: str) -> bool:
    """A key under this header or query name is read by the version (declared or retired place)."""
    return name.lower() in p.key_headers if location == "header" else name in p.key_params


def map_credentials(m: Migration, creds: Credentials) -> Credentials | str:
    """Each key taken to the target's declared place, spelled as documented there (the name's case kept); a key
    under a name that is no key place keeps its wire form. A reason instead when there is no such mapping."""
    main = m.target.key_places[0]
    out: list[Credential] = []
    for cred in creds.items:
        try:
            place = m.source.place(cred.place)
        except StopIteration:
            return f"a key in a place {m.source.version} does not have ({cred.place})"
        if cred.name:  # a key under a name that is no key place: the same wire form, if it means nothing there too
            kept = next((p for p in (*m.target.key_places, *m.target.retired_places) if _same(p, place)), None)
            if kept is None or _reads_key_at(m.target, place.location, cred.name):
                return f"a key under the name {cred.name!r}, which {m.target.version} reads otherwise"
            out.append(replace(cred, place=kept.name))
            continue
        if cred.key.kind == "padded" and main.location == "header":
            return f"a key with white space around it, which {main.describe()} cannot carry (RFC 9110, 5.5)"
        scheme = cred.scheme if place.scheme else DOCUMENTED  # a place without a scheme has one spelling
        if scheme != DOCUMENTED and (place.scheme or "").lower() != (main.scheme or "").lower():
            return f"a key spelled with the scheme {scheme!r}, which {main.describe()} does not take"
        case = cred.name_case if place.location == main.location == "header" else DOCUMENTED
        mapped = Credential(main.name, cred.key, case, scheme, cred.separator if place.scheme else " ")
        clash = next((c for c in out if c.place == main.name and not c.name), None)
        if clash is not None and clash != mapped:
            places = ", ".join(p.describe() for p in m.source.key_places)
            return f"different keys in {places}: {m.target.version} takes one key, in {main.describe()}"
        if clash is None:
            out.append(mapped)
    return Credentials(tuple(out))


def map_request(m: Migration, request: Request) -> Request | str:
    """The update as the target version has it (the event id is the caller's), or why it has no counterpart."""
    if request.op != UPDATE:
        return "not an update"
    if request.method is not None:
        return f"a method the document does not declare for the path ({request.method}): not the update"
    creds = map_credentials(m, request.credentials)
    if isinstance(creds, str):
        return creds
    return replace(request, credentials=creds, body=map_body(m, request.body))


# -- what an answer means ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Meaning:
    """An answer in a version's terms: its status and the roles its code stands for (not the code's spelling)."""

    status: int | None  # None: no answer
    code: str | None = None
    roles: frozenset[str] = frozenset()
    known: bool = True  # the code is one of the version's (or there is none)

    def describe(self) -> str:
        if self.status is None:
            return "no answer"
        if self.status == 200:
            return "200 accepted"
        roles = f" ({', '.join(sorted(self.roles))})" if self.roles else ""
        return f"{self.status} {self.code or '(no code)'}{roles}"


def roles_of(p: Profile, status: int | None, code: str | None) -> frozenset[str]:
    """The roles a refusal stands for in `p`: those whose own answer it is, else those that list its code
    with its status, else those that allow any code with it."""
    if status is None or status < 400 or code is None or code not in p.error_codes:
        return frozenset()
    allowing = [r for r in p.roles.values() if status in r.answers]
    tests = (
        lambda r: r.status == status and r.code == code,
        lambda r: r.answers[status] is not None and code in r.answers[status],
        lambda r: r.answers[status] is None,
    )
    for test in tests:
        found = frozenset(r.name for r in allowing if test(r))
        if found:
            return found
    return frozenset()


def meaning(p: Profile, status: int | None, code: str | None) -> Meaning:
    known = code is None or code in p.error_codes
    return Meaning(status, code, roles_of(p, status, code), known)


def server_change(m: Migration, before: Meaning, after: Meaning, *, moved_by_window: bool = False):
    """How the target's answer differs in meaning from the source's: (kind, item, documented), or None."""
    if after.code is not None and not after.known:
        own = f" ({m.source.version}'s)" if after.code in m.source.error_codes else ""
        return UNKNOWN_CODE, f"{after.status} {after.code}: not a {m.target.version} code{own}", False
    if before.status == after.status:
        if before.status == 200 or before.roles & after.roles or (not before.roles and not after.roles):
            return None
        return OUTCOME, f"{before.describe()} -> {after.describe()}", False
    if moved_by_window and after.status == 200 and EXPIRED in before.roles:
        window = m.differences.get(WINDOW)
        what = f"{window.items[0][1]} -> {window.items[0][2]}" if window else "the same window"
        return WINDOW, f"an event past {m.source.version}'s window, inside {m.target.version}'s ({what})", bool(window)
    common = sorted(before.roles & after.roles)
    if common and before.status is not None and after.status is not None and before.status >= 400:
        for role in common:
            if m.documented(ROLE_STATUS, role) and after.status in m.target.role(role).statuses:
                return ROLE_STATUS, f"{role}: {before.status} -> {after.status}", True
        return ROLE_STATUS, f"{common[0]}: {before.status} -> {after.status}", False
    return OUTCOME, f"{before.describe()} -> {after.describe()}", False


# -- what the client must change -------------------------------------------------------------------------
def _label(m: Migration, kind: str) -> str:
    _key, before, after = m.differences[kind].items[0]
    return f"{before} -> {after}"


def client_changes(m: Migration, request: Request) -> list[tuple[str, str]]:
    """(kind, item) of every change the client must make to send this update to the target version."""
    found = [(kind, _label(m, kind)) for kind in (METHOD, PATH) if kind in m.differences]
    raw = request.body.encode()
    if raw is not None:
        found += [(FIELD, f"{old} -> {new}") for old, new in dict(rename_keys(raw, m.forward)[1]).items()]
    main = m.target.key_places[0]
    for cred in request.credentials.items:
        place = next((p for p in m.source.key_places if p.name == cred.place), None)
        if place is not None and not cred.name and not _same(place, main):
            found.append((KEY, f"{place.describe()} -> {main.describe()}"))
    return list(dict.fromkeys(found))


def answer_changes(
    m: Migration, status: int | None, headers: Mapping[str, str], code: str | None
) -> list[tuple[str, str]]:
    """(kind, item) of what the client must change in how it reads this answer: a code spelled otherwise in
    the target version, a Retry-After the target does not send."""
    found = []
    roles = roles_of(m.source, status, code)
    if roles and CODE in m.differences:
        codes = sorted({m.target.role(r).code for r in roles})
        if code not in codes:
            found.append((CODE, f"{code} -> {' or '.join(codes)}"))
    limited = status in m.source.role("rate_limited").statuses
    if limited and RETRY in m.differences and any(k.lower() == "retry-after" for k in headers):
        found.append((RETRY, _label(m, RETRY)))
    return found
