"""What lenient servers take that the contract does not: JSON only a lenient parser accepts, duplicate
members, numbers at and past the range of a double, and the read-only members of the event in a body.

- **Lenient JSON** (UE-BODY-04): RFC 8259's grammar walked production by production, each relaxed as
  lenient parsers relax it (JSON5, JSONC, Python's json with `strict=False` or its NaN, a reader that
  stops after the first value, a fallback to Python literals). Each relaxation is an edit of one valid
  body of marks at the place of its production, so a server that takes it shows what it stored.
- **Duplicate members** (UE-BODY-10): fields twice, a valid and an invalid value, in both orders (one
  field that can carry the suite's mark goes once in each, marked).
  RFC 8259, 4 leaves what a receiver does unpredictable: 400, or 200 with one of the values sent, never
  a value the schema refuses (a server that checks the first and stores the last).
- **Numbers** (UE-BODY-11): inside the object fields, at the edges of the double range and past them
  (overflow, underflow, a very long integer). Refused, or accepted and read back as JSON with a number in
  their place (RFC 8259, 6: exactness past 2^53 is not required). Overflow goes alone: the usual answer to
  it is a refusal, which must not hide the others.
- **Read-only members** (UE-STATE-01): every member the read-back shows of the event but the update
  fields and the event's own id (rebinding it would lose the event), sent beside an update field with a
  plausible value of its schema. Neither version's update schema forbids extra members: the update is
  accepted, the members are ignored, only the field changes (CATS' MassAssignment, EvoMaster's).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from fpjs_conformance import shapes
from fpjs_conformance.checks import Fault, Violation
from fpjs_conformance.model import Body, Exchange
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import cases, check, clause
from fpjs_conformance.rules.body import MALFORMED_REFUSED, VALID_ACCEPTED
from fpjs_conformance.table import PROBE_MARK, Case, Table

DUPLICATES = clause("UE-BODY-10", needs=("read_back",))
NUMBERS = clause("UE-BODY-11")

# RFC 8259 by production: (production, relaxation) -> how a body's text is relaxed there. `base` is the
# valid text: {"<string field>": "<mark>", "<object field>": {"fpjs": "<mark>", "n": [1, 0.5, true, null]}}.
RELAXATIONS: dict[tuple[str, str], Any] = {
    ("JSON-text", "a second value"): lambda b: b + b" {}",
    ("ws", "form feed"): lambda b: b.replace(b": ", b":\f", 1),
    ("value-separator", "trailing comma"): lambda b: b[:-1] + b",}",
    ("ws", "comments"): lambda b: b"{/* fpjs */" + b[1:-1] + b"// fpjs\n}",
    ("string", "single quotes"): lambda b: _swap_first_string(b),
    ("member", "unquoted name"): lambda b: _unquote_first_name(b),
    ("number", "JavaScript forms"): lambda b: b.replace(b"[1, 0.5,", b"[+1, .5, 0x1,", 1),
    ("number", "NaN and Infinity"): lambda b: b.replace(b"null]", b"NaN, Infinity, -Infinity]", 1),
    ("escape", "an escape JSON lacks"): lambda b: b.replace(b"m", b"\\x6d", 1) if b"m" in b else b,
    ("unescaped", "a raw control character"): lambda b: b.replace(b'"fpjs-', b'"\tfpjs-', 1),
    ("end-object", "missing"): lambda b: b[:-1],
}


def _swap_first_string(b: bytes) -> bytes:
    """The first string value in single quotes."""
    head, _, tail = b.partition(b': "')
    value, _, rest = tail.partition(b'"')
    return head + b": '" + value + b"'" + rest


def _unquote_first_name(b: bytes) -> bytes:
    name, _, rest = b[2:].partition(b'"')
    return b"{" + name + rest


def base_text(t: Table) -> bytes:
    """One valid body of a new mark with every production in it: an object field holding an array of a
    number, a fraction and the literals, a string field holding the mark."""
    marks = t.marks()
    value: dict[str, Any] = {}
    for field, v in marks.items():
        value[field] = {**v, "n": [1, 0.5, True, None]} if isinstance(v, dict) else v
    return json.dumps(value).encode()


@cases
def lenient_json(t: Table) -> Iterator[Case]:
    for (production, relaxation), edit in RELAXATIONS.items():
        base = base_text(t)
        raw = edit(base)
        if raw == base or shapes.parse_json(raw)[0]:
            continue  # the production is not in this version's body (no object field, no string field)
        name = f"{production}:{relaxation}".replace(" ", "-")
        yield t.case(f"body/lenient:{name}", MALFORMED_REFUSED, t.update(Body.bytes_(raw)))


# -- duplicate members -------------------------------------------------------------------------------
def duplicated(profile: Profile, body: Body) -> bool:
    """The body's text names a member of its object twice (Python's json keeps the last)."""
    raw = body.raw
    if raw is None:
        return False
    seen: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen.append(len({k for k, _ in items}) < len(items))
        return dict(items)

    try:
        json.loads(raw.decode("utf-8"), object_pairs_hook=pairs)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return any(seen)


def fault(profile: Profile, body: Body) -> Fault | None:
    """What the contract allows a body of duplicate members or of numbers past a double (before what the
    body's last members alone would make it)."""
    if duplicated(profile, body):
        allowed = dict(profile.role("bad_request").answers)
        return Fault(DUPLICATES, allowed, soft=True, why="a field named twice, a valid and an invalid value")
    return number_fault(profile, body)


@cases
def duplicate_members(t: Table) -> Iterator[Case]:
    """Each order in a body of its own; in each, one field that can carry a mark goes once, marked (the
    other order duplicates it): a server that stores an invalid duplicate still shows the suite's mark."""
    p = t.p
    wrong = {"string": 1, "object": "x", "boolean": "x"}
    held = [f for f, kind in p.field_types.items() if kind in ("string", "object")]
    for i, order in enumerate(("valid-first", "invalid-first")):
        valid = t.marks()
        valid.update({f: True for f in p.fields_of_type("boolean")})
        once = held[i % len(held)] if held else None
        parts = []
        for field, kind in p.field_types.items():
            pair = [json.dumps(valid.get(field)), json.dumps(wrong.get(kind))]
            if field == once:
                pair = pair[:1]
            elif order == "invalid-first":
                pair.reverse()
            parts += [f"{json.dumps(field)}: {v}" for v in pair]
        raw = ("{" + ", ".join(parts) + "}").encode()
        body = Body(json_value=valid, raw=raw)  # what may be stored: the valid value of each field
        yield t.case(f"body/duplicates:{order}", DUPLICATES, t.update(body), compare="fold")


# -- numbers at and past the double range ---------------------------------------------------------------
EDGES = {  # name -> the number's JSON text
    "max-double": "1.7976931348623157e308",
    "min-subnormal": "5e-324",
    "underflow": "1e-400",
    "past-2^53": "9007199254740993",
    "long-integer": "1" + "0" * 400,
}
OVERFLOW = {"overflow": "1e400", "minus-overflow": "-1e400"}


@cases
def number_edges(t: Table) -> Iterator[Case]:
    for field in t.p.fields_of_type("object"):
        for name, numbers in (("edges", EDGES), ("overflow", OVERFLOW)):
            mark = t.mark()
            members = ", ".join(f"{json.dumps(k)}: {v}" for k, v in numbers.items())
            raw = f'{{{json.dumps(field)}: {{"{PROBE_MARK}": "{mark}", {members}}}}}'.encode()
            value = {field: {PROBE_MARK: mark, **{k: json.loads(v) for k, v in numbers.items()}}}
            body = Body(json_value=value, raw=raw)
            yield t.case(f"body/{field}/numbers:{name}", NUMBERS, t.update(body), compare="numbers")


def number_fault(profile: Profile, body: Body) -> Fault | None:
    """A body with a number past what a double holds exactly: refused (bad request) or accepted."""
    raw = body.raw
    if raw is None or not any(text.encode() in raw for text in (*EDGES.values(), *OVERFLOW.values())):
        return None
    return Fault(NUMBERS, dict(profile.role("bad_request").answers), soft=True, why="numbers at or past a double")


@check(NUMBERS)
def numbers_read_back(stored: Any, sent: Any, ex: Exchange) -> None:
    """After a 200, each number sent reads back as a number (a double's value where the sent one fits)."""
    if not _like(stored, sent):
        raise Violation(NUMBERS, f"read back with numbers in their places: {_show(sent)}", _show(stored), ex)


def _like(shown: Any, sent: Any) -> bool:
    if isinstance(sent, dict):
        return isinstance(shown, dict) and shown.keys() == sent.keys() and all(_like(shown[k], sent[k]) for k in sent)
    if isinstance(sent, bool) or not isinstance(sent, int | float):
        return shown == sent and type(shown) is type(sent)
    if isinstance(shown, bool) or not isinstance(shown, int | float):
        return False
    try:
        a, b = float(sent), float(shown)
    except OverflowError:
        return True  # a very long integer: any number stands for it
    return math.isinf(a) or a == b or abs(a - b) <= abs(a) * 1e-15


def _show(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# -- read-only members ------------------------------------------------------------------------------------
def plausible(name: str, schema: dict[str, Any], mark: str, depth: int = 0) -> Any:
    """A value of `schema` that passes for the member's own and is the suite's (strings carry the mark)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if schema.get("enum"):
        return schema["enum"][-1]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if depth > 2:
            return {}
        return {k: plausible(k, v, mark, depth + 1) for k, v in props.items() if k in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return 1000000000000  # a millisecond timestamp of 2001
    if kind == "number":
        return 0.25
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    return {"date-time": "2001-09-09T01:46:40Z", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1"}.get(fmt, f"{mark}-{name}")


@cases
def read_only_members(t: Table) -> Iterator[Case]:
    p = t.p
    mark = t.mark()
    members = {}
    for name, schema in p.read_back_members.items():
        if name != p.id_field:
            members[name] = plausible(name, _resolved(p, schema), mark)
    field = next(iter(p.fields_of_type("string") or p.fields))
    body = {field: mark if p.field_types[field] == "string" else {PROBE_MARK: mark}, **members}
    # a valid update (UE-BODY-01: extra members are allowed), what it binds the state oracle's (UE-STATE-01)
    yield t.case("body/read-only-members", VALID_ACCEPTED, t.update(body), compare="fold")


def _resolved(profile: Profile, schema: Any) -> dict[str, Any]:
    node = profile.resolve(schema)
    if isinstance(node, dict) and "allOf" in node:
        merged: dict[str, Any] = {}
        for sub in node["allOf"]:
            merged.update(_resolved(profile, sub))
        return merged
    if isinstance(node, dict) and "properties" in node:
        return {**node, "properties": {k: _resolved(profile, v) for k, v in node["properties"].items()}}
    return node if isinstance(node, dict) else {}
