"""Body: valid updates accepted (any subset of the fields, boundary lengths, unicode, nesting), every
malformed shape refused with the bad-request answer, and the shapes the contract leaves open.

`fault` says what is wrong with a request's body, as the clause it breaks and what that clause
allows; the coverage table sends every field x every JSON type, strings at their boundaries,
objects empty, wide, deep and at their byte limit, and every way a body can fail to be one. The
character classes of `contracts/variety.toml` ride along (`fpjs_conformance.variety`): an object
carries every class as keys and as values at once, raw in one request and escaped in another, a
single string field a value of only one class on each case that leaves it free (`Table.ride`) and
every class mixed with ASCII letters, escaped and raw; near misses of every field name ride with
the fields they miss; a class a version leaves open (`[open_strings]`) goes in a request of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fpjs_conformance import profile as profiles
from fpjs_conformance import shapes, strategies, variety
from fpjs_conformance.checks import Fault
from fpjs_conformance.model import NO_BODY, Body, Request
from fpjs_conformance.profile import BAD_JSON_TYPES, Profile
from fpjs_conformance.registry import cases, clause, explores
from fpjs_conformance.rules.left_open import CONTENT_TYPE
from fpjs_conformance.rules.semantics import STORED
from fpjs_conformance.table import CANONICAL, PROBE_MARK, Case, Table, probe_body, text_body, valid_value_of

VALID_ACCEPTED = clause("UE-BODY-01")
WRONG_TYPE_REFUSED = clause("UE-BODY-02")
NOT_OBJECT_REFUSED = clause("UE-BODY-03")
MALFORMED_REFUSED = clause("UE-BODY-04")
MISSING_REFUSED = clause("UE-BODY-05")
PAST_LIMIT_SURVIVED = clause("UE-BODY-06")
NO_KNOWN_FIELD = clause("UE-BODY-07")
SCHEMATHESIS_POSITIVE = clause("UE-BODY-08")
SCHEMATHESIS_NEGATIVE = clause("UE-BODY-09")

# Body kind -> (clause, the role of its answer, whether 200 keeps the contract too).
KINDS = {
    shapes.ABSENT: (MISSING_REFUSED, "bad_request", False),
    shapes.MALFORMED: (MALFORMED_REFUSED, "bad_request", False),
    shapes.NOT_OBJECT: (NOT_OBJECT_REFUSED, "bad_request", False),
    shapes.WRONG_TYPE: (WRONG_TYPE_REFUSED, "bad_request", False),
    shapes.NO_KNOWN_FIELD: (NO_KNOWN_FIELD, "empty_update", True),
    shapes.PAST_LIMIT: (PAST_LIMIT_SURVIVED, "too_large", True),
}


def clause_of(profile: Profile, body: Body) -> str | None:
    """The clause a body falls under when it is not a plain valid update (None: it is one)."""
    kind = shapes.body_kind(profile, body)
    return KINDS[kind][0] if kind in KINDS else None


def fault(profile: Profile, request: Request) -> Fault | None:
    kind = shapes.body_kind(profile, request.body)
    if kind in KINDS:
        clause_id, role, soft = KINDS[kind]
        r = profile.role(role)
        return Fault(clause_id, dict(r.answers), soft=soft, should=r.lenient, should_basis=r.sources)
    found = open_string(profile, request)
    if found is not None:
        return found
    bad = dict(profile.role("bad_request").answers)
    # A JSON media type in any letter case or with parameters is the same request (UE-HTTP-02).
    if not variety.json_media(request.content_type) or request.extra_headers:
        return Fault(CONTENT_TYPE, bad, soft=True)
    if any(name not in profile.key_params for name, _ in request.extra_query):
        return Fault(CONTENT_TYPE, bad, soft=True)
    return None


def open_string(profile: Profile, request: Request) -> Fault | None:
    """A valid body holding a class of characters the version leaves open (`[open_strings]`): stored and
    read back exactly, or refused with the answer of the role the profile names."""
    if not request.body.present:
        return None
    ok, value = shapes.body_value(request.body)
    name = variety.open_class_in(value) if ok else None
    spec = variety.open_strings(profile).get(name or "")
    if spec is None:
        return None
    allowed = {200: None, **profile.role(spec["role"]).answers}
    return Fault(VALID_ACCEPTED, allowed, soft=True, why=f"a {name} (left open: {spec['why']})")


# Wrong values a lenient parser would coerce into the field's type (a boolean: from text, from a number).
COERCIBLE: dict[str, list[Any]] = {
    "boolean": ["true", 0],
    "string": [["x"], {"x": "y"}],
    "object": [[{}], "{}"],
}
DEEPER = 200  # levels of nesting: past what a recursive parser or store may handle, far within the byte limit


# Every kind of JSON value inside an object (white space kept, null, nesting): the object of classes carries them.
VALUE_KINDS: dict[str, Any] = {
    "s": "x",
    "w": " x\t",
    "n": 1,
    "f": 1.5,
    "b": False,
    "z": None,
    "a": [1, {"b": []}],
    "o": {},
}


# -- the coverage table ------------------------------------------------------------------------------
@cases
def field_types(t: Table) -> Iterator[Case]:
    p, c, u = t.p, t.case, t.update

    def stored(field: str, value: Any) -> object:
        """A valid update of `field`, the next string class and header shape riding along (and a mark held)."""
        return u(t.hold({field: value, **t.ride(but=(field,))}), **t.shaped("accepted"))

    def refused(field: str, value: Any) -> object:
        """A wrong value of `field` after marks in the other fields: a server that writes the fields it has
        checked before it finds the wrong one shows the marks (UE-STATE-02)."""
        return u({**t.marks(but=(field,)), field: value})

    for field, kind in p.field_types.items():
        sent: list[Any] = []
        for json_type in BAD_JSON_TYPES:
            value = CANONICAL[json_type]
            if json_type == kind or (kind == "number" and json_type == "integer"):
                # a string of one character (the shortest that is not empty), the empty object, true
                request = u(t.hold({field: value})) if kind == "object" else stored(field, value)
                yield c(f"body/{field}/type:{json_type}", STORED, request, compare="fold")
            elif json_type == "integer" and kind not in ("number", "integer"):
                continue  # one JSON type, number (RFC 8259, 3): 1.5 stands for it
            else:
                sent.append(value)
                yield c(f"body/{field}/type:{json_type}", WRONG_TYPE_REFUSED, refused(field, value))
        for i, value in enumerate(COERCIBLE.get(kind, [])):
            if not any(type(value) is type(v) and value == v for v in sent):
                yield c(f"body/{field}/coercible:{i}", WRONG_TYPE_REFUSED, refused(field, value))
        if kind == "boolean":
            yield c(f"body/{field}/false", STORED, stored(field, False), compare="fold")
        if kind == "string":
            yield from _strings(t, field, stored)
        if kind == "object":
            yield from _objects(t, field, stored)


@cases
def whole_bodies(t: Table) -> Iterator[Case]:
    p, c, u = t.p, t.case, t.update
    yield from _packed(t)
    # After a known state, so that a 200 to it is read back: nothing may have changed (the key in its
    # first place: the place clauses are judged elsewhere).
    first = t.first_key()
    yield c("body/empty-object", NO_KNOWN_FIELD, u({}, creds=first), compare="fold")
    # Unknown names only, the field names of the other versions among them (a server migrating between
    # versions may take them as aliases): read back against what the event held.
    others = {n: k for n, k in _other_versions_fields(p).items() if n not in p.fields}
    unknown = {"fpjs_unknown": 1, **{n: valid_value_of(k, "other-version-name") for n, k in others.items()}}
    yield c("body/unknown-names", NO_KNOWN_FIELD, u(unknown, creds=first), compare="fold")
    for json_type in BAD_JSON_TYPES:
        if json_type != "object":
            yield c(f"body/not-object:{json_type}", NOT_OBJECT_REFUSED, u(Body.of(CANONICAL[json_type])))
    text_field = (p.fields_of_type("string") or list(p.fields))[0]
    key = json.dumps(text_field).encode()
    yield c("body/not-utf8:ff", MALFORMED_REFUSED, u(Body.bytes_(b"{" + key + b': "\xff\xfe"}')))
    yield c("body/not-utf8:latin1", MALFORMED_REFUSED, u(Body.bytes_(b"{" + key + b': "caf\xe9"}')))
    yield c("body/not-utf8:utf16", MALFORMED_REFUSED, u(Body.bytes_(json.dumps(probe_body(p)).encode("utf-16"))))
    yield c("body/missing", MISSING_REFUSED, u(NO_BODY))
    yield c("body/missing-no-content-type", MISSING_REFUSED, u(NO_BODY, content_type=None))


def _packed(t: Table) -> Iterator[Case]:
    """Every field at once, twice: every character class in the object fields as keys and values, every
    class mixed with ASCII letters in the string fields; once with the strings of the objects raw
    and those of the string fields escaped (and the near misses of every field name after the fields
    they miss: the read-back shows the fields exactly as sent), once the other way round with every
    field name escaped (JSON text for the same names)."""
    p, c, u = t.p, t.case, t.update
    mixed = {f: variety.mixed_values(p, f) for f in p.fields_of_type("string")}
    for name, tag, strings, objects in (
        ("all-fields", "all", "escaped", "raw"),
        ("escaped", "escaped", "raw", "ESCAPED"),
    ):
        members: list[tuple[str, Any, str]] = []
        for field, kind in p.field_types.items():
            if kind == "string":
                members.append((field, mixed[field][0], strings))
            elif kind == "object":
                members.append((field, {**variety.object_of_classes((PROBE_MARK, tag)), **VALUE_KINDS}, objects))
            else:
                members.append((field, t.valid_value(field, tag) if tag == "all" else False, "raw"))
        if tag == "all":
            known = {n: v for n, v, _ in members}
            members += [(n, v, "raw") for n, v in t.near_misses(p.fields, tag, known).items()]
        else:
            members = [(n, v, f"name+{how}") for n, v, how in members]
        yield c(f"body/{name}", STORED, u(text_body(members), **t.shaped("accepted")), compare="fold")
    # Every class mixed with ASCII letters that one value could not hold, one value each.
    for field, values in mixed.items():
        for i, value in enumerate(values[1:], start=1):
            yield c(f"body/{field}/classes-mixed:{i}", STORED, u(t.hold({field: value})), compare="fold")


def _strings(t: Table, field: str, stored) -> Iterator[Case]:
    c, u = t.case, t.update
    limit = t.p.limits.get(field)
    top = limit.max_chars if limit and limit.max_chars else None
    own = f"{PROBE_MARK}-"  # a long value starts with the suite's mark: it holds the event's own
    yield c(f"body/{field}/length:0", STORED, stored(field, ""), compare="fold")  # 1: type:string
    if top:
        yield c(f"body/{field}/length:limit", STORED, stored(field, own + "L" * (top - len(own))), compare="fold")
        multibyte = own + "\u00e9" * (top - len(own))
        yield c(f"body/{field}/length:limit-multibyte", STORED, stored(field, multibyte), compare="fold")
        # a 200 to it must store it whole (UE-SEM-01), never cut to the limit
        past = {field: own + "L" * (top + 1 - len(own))}
        yield c(f"body/{field}/length:past-limit", PAST_LIMIT_SURVIVED, u(past), compare="fold")
    # A class the version leaves open: alone, then mixed, each in a request of its own (escaped: UTF-8
    # cannot carry it), so that the refusal it may get hides nothing else; early, so that the cases
    # after it leave the field holding text again.
    for name in variety.open_strings(t.p, sent=True):
        cls = variety.open_classes()[name]
        for form, value in (("only", cls.only()), ("mixed", cls.mixed())):
            hold = [(f, v, "raw") for f, v in t.hold({field: ""}).items() if f != field]
            body = text_body([(field, value, "escaped"), *hold])
            yield c(f"body/{field}/open:{name}:{form}", STORED, u(body), compare="fold")


def _objects(t: Table, field: str, stored) -> Iterator[Case]:
    c, u = t.case, t.update
    limit = t.p.limits.get(field)
    top = limit.max_bytes if limit and limit.max_bytes else 16 * 1024
    deep: Any = {"leaf": True}
    for _ in range(31):
        deep = {"d": deep}
    deeper: Any = {"leaf": [True]}
    for _ in range(DEEPER - 1):
        deeper = {"d": deeper}
    shapes_ = {
        "deep": {PROBE_MARK: "deep", **deep},
        "deeper": {PROBE_MARK: "deeper", **deeper},
        "long-key": {PROBE_MARK: "long-key", "k" * 1000: 1},
        "wide": _wide(limit.lowest - 1 if limit else top, past=False),  # no count puts it at the limit
        "at-limit": _padded(top),
        "at-limit-multibyte": _padded(top, "\u00e9"),
    }
    # {}: the field's own type (body/<field>/type:object)
    for name, value in shapes_.items():
        yield c(f"body/{field}/{name}", STORED, stored(field, value), compare="fold")
    yield c(f"body/{field}/past-limit", PAST_LIMIT_SURVIVED, u({field: _padded(top + 1)}), compare="fold")
    yield c(f"body/{field}/wide-past-limit", PAST_LIMIT_SURVIVED, u({field: _wide(top, past=True)}), compare="fold")


def _other_versions_fields(profile: Profile) -> dict[str, str]:
    """The update fields of every other known version: name -> JSON type."""
    out: dict[str, str] = {}
    for version in profiles.versions():
        if version != profile.version:
            out.update(profiles.load(version).field_types)
    return out


def _padded(size: int, char: str = "p") -> dict[str, str]:
    """An object whose JSON text is exactly `size` bytes (UTF-8), padded with `char` (and ASCII to even out)."""
    base = len(json.dumps({PROBE_MARK: ""}, ensure_ascii=False).encode())
    room = max(0, size - base)
    width = len(char.encode())
    return {PROBE_MARK: char * (room // width) + "p" * (room % width)}


def _wide(size: int, *, past: bool) -> dict[str, Any]:
    """Many small keys: the most whose JSON text stays within `size` bytes, or the fewest past it."""
    out: dict[str, Any] = {PROBE_MARK: 0}
    length = len(json.dumps(out))
    i = 0
    while True:
        key = f"k{i:05d}"
        item = len(json.dumps(key)) + 2 + len(str(i)) + 2  # `, "k00000": 0`
        if length + item > size:
            if past:
                out[key] = i
            return out
        out[key] = i
        length += item
        i += 1


# -- random examples ---------------------------------------------------------------------------------
@explores(VALID_ACCEPTED)
def random_valid(t: Table):
    return t.updates(strategies.valid_bodies(t.p))


@explores(WRONG_TYPE_REFUSED)
def random_wrong_types(t: Table):
    return t.updates(strategies.wrong_type_bodies(t.p))


@explores(NOT_OBJECT_REFUSED)
def random_non_objects(t: Table):
    return t.updates(strategies.non_object_bodies())


@explores(MALFORMED_REFUSED)
def random_malformed(t: Table):
    return t.updates(strategies.malformed_bodies(t.p))


@explores(PAST_LIMIT_SURVIVED, weight=0.5)
def random_over_limit(t: Table):
    return t.updates(strategies.over_limit_bodies(t.p))


@explores(NO_KNOWN_FIELD, weight=0.5)
def random_no_known_field(t: Table):
    return t.updates(strategies.empty_update_bodies(t.p))


@explores(SCHEMATHESIS_POSITIVE, step="also")
def schemathesis_positive(t: Table):
    return t.updates(strategies.schemathesis_bodies(t.p, negative=False, event_id=t.events.live))


@explores(SCHEMATHESIS_NEGATIVE, step="also")
def schemathesis_negative(t: Table):
    return t.updates(strategies.schemathesis_bodies(t.p, negative=True, event_id=t.events.live))
