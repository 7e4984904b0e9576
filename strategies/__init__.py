"""Hypothesis strategies for the update-event endpoint: the suite's public input vocabulary.

Bodies are `contracts.model.Body` values; credentials are symbolic `Credentials`, so a
falsifying example printed by Hypothesis never contains the secret key. Field names and
types come from the OpenAPI document, not from this file.

    valid_bodies()          schema-valid updates that set at least one known field
    field_values(name)      valid values for one known field
    empty_update_bodies()   schema-valid bodies with no known field ({} or unknown keys only)
    over_limit_bodies()     linkedId over 256 characters or tag over 16 KB
    wrong_type_bodies()     one known field with a JSON type the schema does not allow (null too)
    wrong_type_examples()   every (field, wrong value) pair once, near misses such as "true" included
    non_object_bodies()     JSON that is not an object
    malformed_bodies()      bytes that are not JSON, or not UTF-8
    bad_credentials()       anything but the valid key: none, empty, near misses, unrelated keys
    near_miss_keys()        keys derived from the secret key by one small change
    unrelated_keys()        plain alphanumeric keys unrelated to the secret
    unknown_request_ids()   well-formed ids (the live API's shape) that name no event
    odd_request_ids()       ids with escapes, unicode, or great length
    schemathesis_bodies()   schemathesis's own schema-derived positive or negative bodies
"""

from __future__ import annotations

import functools
import json
import re
import string
from typing import Any

from hypothesis import strategies as st

from contracts import oracle, spec
from contracts.model import EMPTY, NEAR_MISSES, Body, Credentials, Key

__all__ = [
    "bad_credentials",
    "empty_update_bodies",
    "field_values",
    "json_values",
    "malformed_bodies",
    "near_miss_keys",
    "non_object_bodies",
    "odd_request_ids",
    "over_limit_bodies",
    "schemathesis_bodies",
    "unknown_request_ids",
    "unrelated_keys",
    "valid_bodies",
    "wrong_type_bodies",
    "wrong_type_examples",
]

# Text without surrogates (not encodable as UTF-8) and without NUL (some stores refuse it).
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
KEYS = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
_SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | TEXT
)


def json_values(max_leaves: int = 12) -> st.SearchStrategy:
    """Any JSON value (no NaN or infinities, which JSON cannot carry)."""
    return st.recursive(
        _SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
        max_leaves=max_leaves,
    )


def _json_objects() -> st.SearchStrategy:
    return st.dictionaries(KEYS, json_values(), max_size=5)


# Strings up to the documented linkedId limit too: a store that cuts them short must show.
_LONG_TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=oracle.LINKED_ID_LIMIT - 16,
    max_size=oracle.LINKED_ID_LIMIT,
)
_TYPE_VALUES = {
    "string": TEXT | _LONG_TEXT,
    "object": _json_objects(),
    "boolean": st.booleans(),
}
_WRONG_VALUES = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(-(2**31), 2**31),
    "number": st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    "string": TEXT,
    "array": st.lists(_SCALARS, max_size=3),
    "object": st.dictionaries(KEYS, _SCALARS, max_size=3),
}


def _extra_properties() -> st.SearchStrategy:
    known = set(spec.body_fields())
    return st.dictionaries(KEYS.filter(lambda k: k not in known), json_values(6), max_size=3)


def field_values(name: str) -> st.SearchStrategy:
    """Valid values for one known field of the update body (by its type in the document)."""
    return _TYPE_VALUES[spec.body_field_types()[name]]


def _known_fields(min_size: int) -> st.SearchStrategy:
    types = spec.body_field_types()
    return st.sets(st.sampled_from(sorted(types)), min_size=min_size).flatmap(
        lambda names: st.fixed_dictionaries({n: _TYPE_VALUES[types[n]] for n in sorted(names)})
    )


def valid_bodies(extra: bool = True) -> st.SearchStrategy[Body]:
    """Schema-valid updates setting at least one of the known fields, within the documented limits."""
    base = _known_fields(1)
    if extra:
        base = st.tuples(base, _extra_properties()).map(lambda p: {**p[1], **p[0]})
    return base.map(Body.of).filter(lambda b: oracle.body_clause(b) is None)


def empty_update_bodies() -> st.SearchStrategy[Body]:
    return _extra_properties().map(Body.of)


def over_limit_bodies() -> st.SearchStrategy[Body]:
    long_id = st.integers(oracle.LINKED_ID_LIMIT + 1, 4 * oracle.LINKED_ID_LIMIT).map(lambda n: {"linkedId": "L" * n})
    big_tag = st.integers(oracle.TAG_LIMIT + 1, 2 * oracle.TAG_LIMIT).map(lambda n: {"tag": {"blob": "t" * n}})
    return (long_id | big_tag).map(Body.of)


def wrong_type_bodies() -> st.SearchStrategy[Body]:
    """One known field given a JSON type other than the schema's (null included); the rest valid."""
    types = spec.body_field_types()

    def build(name: str) -> st.SearchStrategy[dict]:
        wrong = [t for t in _WRONG_VALUES if t != types[name] and not (types[name] == "number" and t == "integer")]
        bad_value = st.sampled_from(wrong).flatmap(lambda t: _WRONG_VALUES[t])
        return st.tuples(_known_fields(0), bad_value).map(lambda p: {**p[0], name: p[1]})

    return st.sampled_from(sorted(types)).flatmap(build).map(Body.of)


# One canonical value per JSON type, and the near misses a lenient parser would coerce.
_CANONICAL = {"null": None, "boolean": True, "integer": 1, "number": 1.5, "string": "x", "array": [], "object": {}}
_NEAR_MISSES = {
    "boolean": ["true", "false", 0, 1, "1"],
    "string": [0, True, ["x"], {"x": "y"}],
    "object": [[], [{}], "{}", '{"a": 1}'],
}


def wrong_type_examples() -> list[tuple[str, Any]]:
    """Every (field, wrong value) pair worth sending once: each other JSON type, then near misses.

    Drawn at random, some pairs (tag as an array, suspect as "true") may never come up; a
    contract test sends each of these once as well.
    """
    out = []
    for name, kind in spec.body_field_types().items():
        wrong = [v for t, v in _CANONICAL.items() if t != kind and not (kind == "number" and t == "integer")]
        if kind == "string":
            wrong = [v for v in wrong if not isinstance(v, str)]
        out += [(name, v) for v in [*wrong, *_NEAR_MISSES.get(kind, [])]]
    return out


def non_object_bodies() -> st.SearchStrategy[Body]:
    return json_values().filter(lambda v: not isinstance(v, dict)).map(Body.of)


def malformed_bodies() -> st.SearchStrategy[Body]:
    """Bytes that are not a JSON document: truncated, garbage, non-UTF-8, or JSON's missing constants."""
    truncated = _known_fields(1).map(lambda b: json.dumps(b).encode()[:-1])
    garbage = st.sampled_from(
        [
            b"{",
            b"{linkedId: 1}",
            b"{'tag': {}}",
            b'{"suspect": true,}',
            b"NaN",
            b'{"linkedId": NaN}',
            b'{"a":1}{"b":2}',
            b"\x00",
            b"nul",
        ]
    )
    not_utf8 = st.binary(min_size=1, max_size=8).map(lambda b: b'{"linkedId": "' + b"\xff" + b + b'"}')
    return st.one_of(truncated, garbage, not_utf8).map(Body.bytes_)


def near_miss_keys() -> st.SearchStrategy[Key]:
    return st.sampled_from(sorted(NEAR_MISSES)).map(lambda v: Key("near", v))


def unrelated_keys() -> st.SearchStrategy[Key]:
    return st.text(string.ascii_letters + string.digits, min_size=1, max_size=40).map(lambda v: Key("literal", v))


def bad_credentials() -> st.SearchStrategy[Credentials]:
    """Credentials that must not authenticate: none, empty, near misses or unrelated keys, in either place."""
    wrong = near_miss_keys() | unrelated_keys() | st.just(EMPTY)
    return st.one_of(
        st.just(Credentials()),
        wrong.map(lambda k: Credentials(header=k)),
        wrong.map(lambda k: Credentials(query=k)),
        st.tuples(wrong, wrong).map(lambda p: Credentials(header=p[0], query=p[1])),
    )


LIVE_ID_SHAPE = r"^\d{13}\.[A-Za-z0-9]{6}$"
# Millisecond timestamps from 2001 to 2008: no event that old can exist, so a request with the
# valid key to such an id can never touch real data, whatever the target.
IMPOSSIBLE_TIMESTAMPS = st.integers(10**12, 12 * 10**11)


def unknown_request_ids() -> st.SearchStrategy[str]:
    """Ids shaped like the live API's (`<ms timestamp>.<6 chars>`) that cannot name a real event."""
    suffix = st.text(string.ascii_letters + string.digits, min_size=6, max_size=6)
    live_shape = st.tuples(IMPOSSIBLE_TIMESTAMPS, suffix).map(lambda p: f"{p[0]}.{p[1]}")
    tokens = st.from_regex(oracle.PLAIN_ID, fullmatch=True).filter(lambda i: not re.match(LIVE_ID_SHAPE, i))
    return live_shape | tokens


def odd_request_ids() -> st.SearchStrategy[str]:
    """Ids a router may trip over: reserved and escaped characters, unicode, great length."""
    odd_chars = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=30)
    reserved = st.lists(st.sampled_from(list("/?#%&=+;:@ []{}\"'<>\\^`|~!$*,")), min_size=1, max_size=6).map("".join)
    long_ids = st.integers(100, 512).map(lambda n: "9" * n)
    ids = st.one_of(odd_chars, st.tuples(reserved, st.text(string.ascii_letters, max_size=5)).map("".join), long_ids)
    return ids.filter(lambda i: not oracle.PLAIN_ID.match(i) or len(i) > 64).filter(lambda i: i.strip(".") != "")


@functools.cache
def _operation():
    import schemathesis

    schema = schemathesis.openapi.from_dict(spec.operation_document())
    return schema[spec.PATH][spec.METHOD.upper()]


def _case_body(case) -> Body:
    from schemathesis.core import NOT_SET

    body = case.body
    if body is NOT_SET:
        return Body()
    if isinstance(body, bytes | bytearray):
        return Body.bytes_(bytes(body))
    return Body.of(body)


@functools.cache
def schemathesis_bodies(negative: bool = False, request_id: str = "1000000000000.unknwn") -> st.SearchStrategy[Body]:
    """Bodies from schemathesis's own generation for the operation (positive or negative mode).

    Pass the designated event as `request_id`: schemathesis then generates whole cases for the
    real event, of which the suite sends the body with its own credentials.
    """
    from schemathesis import GenerationMode

    mode = GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE
    # Credentials are the suite's business (symbolic keys): fixing them spares schemathesis
    # generating headers and query parameters that would be thrown away (about 25 % of its time).
    fixed = {"headers": {spec.key_header(): "unused"}, "query": {spec.key_query_param(): "unused"}}
    cases = _operation().as_strategy(generation_mode=mode, path_parameters={"request_id": request_id}, **fixed)
    return cases.map(_case_body)
