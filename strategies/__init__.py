"""Hypothesis strategies for the update-event endpoint: the suite's public input vocabulary.

Installed, this is `fpjs_conformance.strategies`. Every strategy takes the version's `Profile`
(`fpjs_conformance.profile.load("v4")`): field names, JSON types, limits, key places and id shapes
come from it, never from this file. Bodies are `Body` values and credentials symbolic
`Credentials`, so a falsifying example printed by Hypothesis never contains the secret key.

    valid_bodies(p, extra=True)     schema-valid updates setting at least one known field, within limits
    field_values(p, name)           valid values for one known field
    empty_update_bodies(p)          schema-valid bodies with no known field ({} or unknown keys only)
    over_limit_bodies(p)            a field past its documented limit
    wrong_type_bodies(p)            one known field with a JSON type the schema does not allow (null too)
    non_object_bodies()             JSON that is not an object
    malformed_bodies(p)             bytes that are not JSON, or not UTF-8
    valid_credentials(p)            the valid key in a place it works in, spelled any way HTTP allows
    bad_credentials(p)              anything but the valid key: none, empty, near misses, unrelated keys
    near_miss_keys(), unrelated_keys()
    unknown_event_ids(p)            well-formed ids (the live API's shape) that cannot name an event
    odd_event_ids(p)                ids with escapes, unicode, controls, or great length
    schemathesis_bodies(p, negative=False, event_id=...)   schemathesis's own schema-derived bodies
    interoperable(value)            a JSON value with integers clamped to the range every implementation holds
"""

from __future__ import annotations

import functools
import json
import string
from typing import Any

from hypothesis import strategies as st

from fpjs_conformance import shapes
from fpjs_conformance.model import EMPTY, NEAR_MISSES, VALID, WRONG_REGION, Body, Credential, Credentials, Key
from fpjs_conformance.profile import BAD_JSON_TYPES, Profile

__all__ = [
    "bad_credentials",
    "empty_update_bodies",
    "field_values",
    "interoperable",
    "json_values",
    "malformed_bodies",
    "near_miss_keys",
    "non_object_bodies",
    "odd_event_ids",
    "over_limit_bodies",
    "schemathesis_bodies",
    "unknown_event_ids",
    "unrelated_keys",
    "valid_bodies",
    "valid_credentials",
    "wrong_type_bodies",
]

EXACT_INTEGERS = 2**53  # RFC 8259, 6: beyond this a server may limit the range; nothing demands more

# Text without surrogates (not encodable as UTF-8).
_CHARS = st.characters(exclude_categories=("Cs",))
TEXT = st.text(_CHARS, max_size=40)
KEYS = st.text(_CHARS, max_size=12)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-EXACT_INTEGERS, EXACT_INTEGERS)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)


def _profile(p: Any) -> Profile:
    if not isinstance(p, Profile):
        raise TypeError(f"expected a Profile (fpjs_conformance.profile.load(version)), got {p!r}")
    return p


def json_values(*, max_leaves: int = 12) -> st.SearchStrategy:
    """Any JSON value (no NaN or infinities, which JSON cannot carry)."""
    if not isinstance(max_leaves, int) or max_leaves < 1:
        raise ValueError(f"max_leaves must be a positive integer, got {max_leaves!r}")
    return st.recursive(
        _SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
        max_leaves=max_leaves,
    )


def _json_objects() -> st.SearchStrategy:
    return st.dictionaries(KEYS, json_values(), max_size=5)


def field_values(p: Profile, name: str) -> st.SearchStrategy:
    """Valid values for one known field of the update body (by its type in the document, within its limit)."""
    p = _profile(p)
    if name not in p.field_types:
        raise ValueError(f"{name!r} is not a field of {p.body_schema_name} (fields: {', '.join(p.fields)})")
    kind, limit = p.field_types[name], p.limits.get(name)
    if kind == "string":
        top = limit.max_chars if limit and limit.max_chars else 256
        # Strings up to the documented limit too: a store that cuts them short must show.
        return TEXT | st.text(_CHARS, min_size=max(0, top - 16), max_size=top)
    if kind == "object":
        return _json_objects()
    if kind == "boolean":
        return st.booleans()
    raise ValueError(f"{name!r} has type {kind!r}, which the strategies do not generate")


def _extra_properties(p: Profile) -> st.SearchStrategy:
    known = set(p.fields)
    return st.dictionaries(KEYS.filter(lambda k: k not in known), json_values(max_leaves=6), max_size=3)


def _known_fields(p: Profile, min_size: int) -> st.SearchStrategy:
    return st.sets(st.sampled_from(p.fields), min_size=min_size).flatmap(
        lambda names: st.fixed_dictionaries({n: field_values(p, n) for n in sorted(names)})
    )


def valid_bodies(p: Profile, *, extra: bool = True) -> st.SearchStrategy[Body]:
    """Schema-valid updates setting at least one of the known fields, within the documented limits."""
    p = _profile(p)
    base = _known_fields(p, 1)
    if extra:
        base = st.tuples(base, _extra_properties(p)).map(lambda pair: {**pair[1], **pair[0]})
    return base.map(Body.of).filter(lambda b: shapes.body_kind(p, b) == shapes.VALID)


def empty_update_bodies(p: Profile) -> st.SearchStrategy[Body]:
    return _extra_properties(_profile(p)).map(Body.of)


def over_limit_bodies(p: Profile) -> st.SearchStrategy[Body]:
    """One field past its documented limit (characters for strings, JSON bytes for objects)."""
    p = _profile(p)
    options = []
    for name, limit in p.limits.items():
        if limit.max_chars:
            options.append(st.integers(limit.max_chars + 1, 4 * limit.max_chars).map(lambda n, f=name: {f: "L" * n}))
        if limit.max_bytes:
            size = st.integers(limit.max_bytes + 1, 2 * limit.max_bytes)
            options.append(size.map(lambda n, f=name: {f: {"blob": "t" * n}}))
    return st.one_of(options).map(Body.of)


_WRONG_VALUES = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(-(2**31), 2**31),
    "number": st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    "string": TEXT,
    "array": st.lists(_SCALARS, max_size=3),
    "object": st.dictionaries(KEYS, _SCALARS, max_size=3),
}


def wrong_type_bodies(p: Profile) -> st.SearchStrategy[Body]:
    """One known field given a JSON type other than the schema's (null included); the rest valid."""
    p = _profile(p)

    def build(name: str) -> st.SearchStrategy[dict]:
        kind = p.field_types[name]
        wrong = [t for t in BAD_JSON_TYPES if t != kind and not (kind == "number" and t == "integer")]
        bad_value = st.sampled_from(wrong).flatmap(lambda t: _WRONG_VALUES[t])
        return st.tuples(_known_fields(p, 0), bad_value).map(lambda pair: {**pair[0], name: pair[1]})

    return st.sampled_from(p.fields).flatmap(build).map(Body.of)


def non_object_bodies() -> st.SearchStrategy[Body]:
    return json_values().filter(lambda v: not isinstance(v, dict)).map(Body.of)


def malformed_bodies(p: Profile) -> st.SearchStrategy[Body]:
    """Bytes that are not a JSON document: truncated, garbage, non-UTF-8, or JSON's missing constants."""
    p = _profile(p)
    truncated = _known_fields(p, 1).map(lambda b: json.dumps(b).encode()[:-1])
    field = p.fields[0]
    garbage = st.sampled_from(
        [b"{", b"[", b"{]", b"nul", b"tru", b'{"a" 1}', b"{'a': {}}", b'{"a": Infinity}', b"\xef\xbb\xbf{", b"//\n{}"]
    )
    not_utf8 = st.binary(min_size=1, max_size=8).map(lambda b: b'{"%s": "\xff%s"}' % (field.encode(), b))
    return (
        st.one_of(truncated, garbage, not_utf8)
        .map(Body.bytes_)
        .filter(lambda b: shapes.body_kind(p, b) == shapes.MALFORMED)
    )


def near_miss_keys() -> st.SearchStrategy[Key]:
    return st.sampled_from(sorted(NEAR_MISSES)).map(lambda v: Key("near", v))


def unrelated_keys() -> st.SearchStrategy[Key]:
    return st.text(string.ascii_letters + string.digits, min_size=1, max_size=40).map(lambda v: Key("literal", v))


def valid_credentials(p: Profile) -> st.SearchStrategy[Credentials]:
    """The valid key in one declared place, spelled any way HTTP says must not matter: the header name's
    case, or the scheme word's case, one of them at a time (so a refusal names the clause it breaks)."""
    p = _profile(p)

    def spelled(place) -> st.SearchStrategy[Credentials]:
        spellings = [("", "")]
        if place.location == "header":
            spellings += [("lower", ""), ("upper", "")]
        if place.scheme:
            spellings += [("", place.scheme.lower()), ("", place.scheme.upper())]
        return st.sampled_from(spellings).map(lambda sp: Credentials((Credential(place.name, VALID, *sp),)))

    return st.sampled_from(p.key_places).flatmap(spelled)


def bad_credentials(p: Profile, *, wrong_region: bool = False) -> st.SearchStrategy[Credentials]:
    """Credentials that must not authenticate: none, empty, near misses, unrelated keys, the key without
    its scheme, or the key in a retired place; in any place, alone or together."""
    p = _profile(p)
    wrong = near_miss_keys() | unrelated_keys() | st.just(EMPTY)
    if wrong_region:
        wrong = wrong | st.just(WRONG_REGION)
    places = [place.name for place in p.key_places]
    one = st.tuples(st.sampled_from(places), wrong).map(lambda pair: Credential(*pair))
    options = [st.just(Credentials()), st.lists(one, min_size=1, max_size=len(places), unique_by=lambda c: c.place)]
    schemed = [place for place in p.key_places if place.scheme]
    if schemed:
        no_scheme = st.sampled_from(schemed).flatmap(
            lambda pl: st.sampled_from([None, "Basic", "Token", pl.scheme + "x"]).map(
                lambda s: Credential(pl.name, VALID, "", s)
            )
        )
        options.append(no_scheme.map(lambda c: [c]))
    if p.retired_places:
        options.append(st.sampled_from(p.retired_places).map(lambda pl: [Credential(pl.name, VALID)]))
    return st.one_of(options).map(lambda items: items if isinstance(items, Credentials) else Credentials(tuple(items)))


# Millisecond timestamps from 2001 to 2008: no event that old can exist, so a request with the
# valid key to such an id can never touch real data, whatever the target.
IMPOSSIBLE_TIMESTAMPS = st.integers(10**12, 12 * 10**11)


def unknown_event_ids(p: Profile) -> st.SearchStrategy[str]:
    """Ids shaped like the live API's (`<ms timestamp>.<6 chars>`) that cannot name a real event,
    and other plain tokens that are not in the live shape."""
    p = _profile(p)
    suffix = st.text(string.ascii_letters + string.digits, min_size=6, max_size=6)
    live_shape = st.tuples(IMPOSSIBLE_TIMESTAMPS, suffix).map(lambda pair: f"{pair[0]}.{pair[1]}")
    tokens = st.from_regex(p.plain_id, fullmatch=True).filter(lambda i: not p.live_id.match(i))
    return live_shape | tokens


def odd_event_ids(p: Profile) -> st.SearchStrategy[str]:
    """Ids a router may trip over: reserved and escaped characters, unicode, controls, great length."""
    p = _profile(p)
    odd_chars = st.text(_CHARS, min_size=1, max_size=30)
    reserved = st.lists(st.sampled_from(list("/?#%&=+;:@ []{}\"'<>\\^`|~!$*,")), min_size=1, max_size=6).map("".join)
    long_ids = st.integers(100, 512).map(lambda n: "9" * n)
    ids = st.one_of(odd_chars, st.tuples(reserved, st.text(string.ascii_letters, max_size=5)).map("".join), long_ids)
    return ids.filter(lambda i: not p.plain_id.match(i) and i.strip(".") != "")


@functools.cache
def _operation(p: Profile):
    import schemathesis

    schema = schemathesis.openapi.from_dict(p.operation_document)
    return schema[p.update_path][p.update_method]


def _case_body(case) -> Body:
    from schemathesis.core import NOT_SET

    body = case.body
    if body is NOT_SET:
        return Body()
    if isinstance(body, bytes | bytearray):
        return Body.bytes_(bytes(body))
    return Body.of(interoperable(body))


def interoperable(value):
    """The value with integers clamped into the range every JSON implementation holds exactly."""
    if isinstance(value, dict):
        return {k: interoperable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [interoperable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return max(-EXACT_INTEGERS, min(EXACT_INTEGERS, value))
    return value


@functools.cache
def schemathesis_bodies(p: Profile, *, negative: bool = False, event_id: str = "1000000000000.unknwn"):
    """Bodies from schemathesis's own generation for the operation (positive or negative mode).

    Pass the designated event as `event_id`: schemathesis then generates whole cases for the real
    event, of which the suite sends the body with its own credentials.
    """
    from schemathesis import GenerationMode

    p = _profile(p)
    mode = GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE
    # Credentials are the suite's business (symbolic keys): fixing them spares schemathesis
    # generating headers and query parameters that would be thrown away.
    headers = {pl.field: "unused" for pl in p.key_places if pl.location == "header"}
    query = {pl.field: "unused" for pl in p.key_places if pl.location == "query"}
    fixed = {k: v for k, v in (("headers", headers), ("query", query)) if v}
    op = _operation(p)
    return op.as_strategy(generation_mode=mode, path_parameters={p.id_param: event_id}, **fixed).map(_case_body)
