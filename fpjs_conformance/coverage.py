"""The coverage table: a designed set of cases, each sent once, derived from the profile.

It runs before any random example. Every case is built from what the profile says (fields and
their JSON types, limits, key places and schemes, retired places, id shapes), so the table grows
with the contract and carries over to a new version unchanged: every field x every JSON type,
strings at 0, 1, the limit and one past it plus unicode classes, objects empty, wide, deep, with
long keys, at and past the byte limit, every auth situation in every place, every odd id class
and near misses of the designated id, and empty, malformed and non-UTF-8 bodies. Whatever may be
answered 200 on the designated event is read back after a 200. Case ids are stable: the behaviour snapshot and the
drift report key on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fpjs_conformance.model import (
    EMPTY,
    NEAR_MISSES,
    NO_BODY,
    NO_KEY,
    VALID,
    WRONG_REGION,
    Body,
    Credential,
    Credentials,
    Key,
    Request,
)
from fpjs_conformance.oracle import Events
from fpjs_conformance.profile import BAD_JSON_TYPES, Profile

# Impossible ids: millisecond timestamps from 2001, before any Fingerprint event existed.
UNKNOWN_LIVE_SHAPE = "1000000000000.unknwn"
UNRELATED_KEY = Key("literal", "fpjsNotAKey0123456789")
CANONICAL: dict[str, Any] = {
    "null": None,
    "boolean": True,
    "integer": 1,
    "number": 1.5,
    "string": "x",
    "array": [],
    "object": {},
}
# Wrong values a lenient parser would coerce into the field's type.
COERCIBLE: dict[str, list[Any]] = {
    "boolean": ["true", "false", 0, 1],
    "string": [["x"], {"x": "y"}],
    "object": [[{}], "{}"],
}
UNICODE: dict[str, str] = {
    "astral": "fox \U0001f98a math \U0001d4b3",
    "nul": "a\x00b",
    "rtl": "\u202eevil \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "combining": "e\u0301 n\u0303 (decomposed)",
    "zwj": "\U0001f469\u200d\U0001f4bb",
    "whitespace": " \u00a0padded\tby white space\r\n ",
}
MALFORMED: dict[str, bytes] = {
    "open-brace": b"{",
    "truncated": b'{"a": [1, 2',
    "unquoted-key": b"{a: 1}",
    "single-quotes": b"{'a': 1}",
    "trailing-comma": b'{"a": 1,}',
    "nan": b'{"a": NaN}',
    "two-documents": b'{"a":1}{"b":2}',
    "nul-byte": b"\x00",
}
# JSON has no such numbers (RFC 8259, 6): sent inside a field, where a lenient parser would take them.
NOT_JSON_NUMBERS: dict[str, bytes] = {"nan": b"NaN", "infinity": b"Infinity", "minus-infinity": b"-Infinity"}
DEEPER = 200  # levels of nesting: past what a recursive parser or store may handle, far within the byte limit
ODD_IDS: dict[str, str] = {
    "slash": "a/b",
    "space": "a b",
    "percent": "%41",
    "unicode": "\u00e9\u2713",
    "astral": "\U0001f98a",
    "control": "a\nb",
    "delete": "a\x7fb",
    "reserved": "?#&=;",
    "quotes": "\"'<>",
    "backslash": "a\\b",
    "leading-dash": "-abc",
    "long": "9" * 512,
}


@dataclass(frozen=True)
class Case:
    """One designed probe: requests sent in order, then (for `compare`) the event read back.

    compare: None (judge the answers only), "fold" (the read-back holds every field the requests
    set, later values replacing earlier ones), "repeat" (the one request sent twice: same answer,
    same stored values).
    """

    id: str
    clause_id: str
    requests: tuple[Request, ...]
    compare: str | None = None

    @property
    def needs_read_back(self) -> bool:
        return self.compare is not None


def probe_body(profile: Profile) -> dict[str, Any]:
    """A small valid update: the first string field (or else the first boolean) set."""
    for name in profile.fields_of_type("string"):
        return {name: "fpjs-conformance-probe"}
    return {profile.fields_of_type("boolean")[0]: False}


class Table:
    """Builds the cases for one version and one set of designated events."""

    def __init__(self, profile: Profile, events: Events, *, wrong_region: bool):
        self.p = profile
        self.events = events
        self.wrong_region = wrong_region
        self.places = [place.name for place in profile.key_places]
        self._turn = 0

    def cases(self) -> list[Case]:
        """Every case, each request in it sent once in the run: a case that repeats an earlier one is
        dropped, and a step of a sequence that would repeat one is told apart by a marker property
        (the schema allows extra properties; UE-SEM-04's repeat is the one repeat on purpose)."""
        out, seen = [], set()
        for case in (*self.auth(), *self.bodies(), *self.ids(), *self.several_faults(), *self.semantics()):
            keys = [r.fingerprint() for r in case.requests]
            if len(keys) == 1 and keys[0] in seen:
                continue
            requests = tuple(
                _marked(r, case.id) if key in seen and isinstance(r.body.json_value, dict) else r
                for r, key in zip(case.requests, keys, strict=True)
            )
            seen.update(r.fingerprint() for r in requests)
            out.append(Case(case.id, case.clause_id, requests, case.compare))
        return out

    # -- helpers ----------------------------------------------------------------------------------
    def _key(self) -> Credentials:
        """The valid key, in each declared place in turn: no answer may depend on the place."""
        place = self.places[self._turn % len(self.places)]
        self._turn += 1
        return Credentials.of(**{place: VALID})

    def _update(
        self, body: Any = None, *, creds: Credentials | None = None, event_id: str | None = None, **kw
    ) -> Request:
        if body is None:
            body = Body.of(probe_body(self.p))
        elif not isinstance(body, Body):
            body = Body.of(body)
        return Request(event_id or self.events.live, creds if creds is not None else self._key(), body, **kw)

    def _case(self, case_id: str, clause_id: str, *requests: Request, compare: str | None = None) -> Case:
        return Case(case_id, clause_id, tuple(requests), compare)

    # -- auth -------------------------------------------------------------------------------------
    def auth(self) -> Iterator[Case]:
        p, c = self.p, self._case
        yield c("auth/no-key", "UE-AUTH-01", self._update(creds=NO_KEY))
        for place in p.key_places:
            at = place.name

            def one(key: Key, at: str = at, **spelling) -> Credentials:
                return Credentials((Credential(at, key, **spelling),))

            yield c(f"auth/{at}/empty", "UE-AUTH-02", self._update(creds=one(EMPTY)))
            for variant in NEAR_MISSES:
                yield c(f"auth/{at}/near:{variant}", "UE-AUTH-03", self._update(creds=one(Key("near", variant))))
            yield c(f"auth/{at}/unrelated", "UE-AUTH-03", self._update(creds=one(UNRELATED_KEY)))
            if self.wrong_region:
                yield c(f"auth/{at}/wrong-region", "UE-AUTH-06", self._update(creds=one(WRONG_REGION)))
            valid_clause = "UE-AUTH-05" if place.location == "query" else "UE-AUTH-04"
            yield c(f"auth/{at}/valid", valid_clause, self._update(creds=one(VALID)))
            if place.location == "header":
                for case in ("lower", "upper"):
                    yield c(f"auth/{at}/name:{case}", "UE-HTTP-01", self._update(creds=one(VALID, name_case=case)))
            if place.scheme:
                for word in (place.scheme.lower(), place.scheme.upper()):
                    yield c(f"auth/{at}/scheme:{word}", "UE-AUTH-08", self._update(creds=one(VALID, scheme=word)))
                yield c(f"auth/{at}/scheme:none", "UE-AUTH-09", self._update(creds=one(VALID, scheme=None)))
                for other in ("Basic", "Token"):
                    yield c(f"auth/{at}/scheme:{other}", "UE-AUTH-09", self._update(creds=one(VALID, scheme=other)))
                for name, sep in (("glued", ""), ("colon", ":")):
                    yield c(f"auth/{at}/separator:{name}", "UE-AUTH-09", self._update(creds=one(VALID, separator=sep)))
                yield c(f"auth/{at}/scheme:only", "UE-AUTH-09", self._update(creds=one(EMPTY, scheme=place.scheme)))
        if len(p.key_places) > 1:
            empties = Credentials(tuple(Credential(pl.name, EMPTY) for pl in p.key_places))
            yield c("auth/all-empty", "UE-AUTH-02", self._update(creds=empties))
            for good in p.key_places:
                other = next(pl for pl in p.key_places if pl is not good)
                creds = Credentials((Credential(good.name, VALID), Credential(other.name, Key("near", "drop-last"))))
                yield c(f"auth/valid-{good.name}-wrong-{other.name}", "UE-OPEN-02", self._update(creds=creds))
        for place in p.retired_places:
            creds = Credentials((Credential(place.name, VALID),))
            yield c(f"auth/{place.name}/valid", "UE-AUTH-10", self._update(creds=creds))
        near = Credentials.of(**{self.places[0]: Key("near", "drop-last")})
        empty = Credentials.of(**{self.places[-1]: EMPTY})
        field, kind = next(iter(p.field_types.items()))
        wrong_type = {field: CANONICAL["null" if kind != "null" else "string"]}
        yield c("auth-first/no-key+malformed", "UE-AUTH-07", self._update(Body.bytes_(b"{"), creds=NO_KEY))
        yield c("auth-first/no-key+no-body", "UE-AUTH-07", self._update(NO_BODY, creds=NO_KEY))
        yield c("auth-first/no-key+unknown-id", "UE-AUTH-07", self._update(creds=NO_KEY, event_id=UNKNOWN_LIVE_SHAPE))
        yield c("auth-first/near-key+wrong-type", "UE-AUTH-07", self._update(wrong_type, creds=near))
        yield c("auth-first/empty-key+odd-id", "UE-AUTH-07", self._update(creds=empty, event_id=ODD_IDS["slash"]))

    # -- bodies -----------------------------------------------------------------------------------
    def bodies(self) -> Iterator[Case]:
        p, c, u = self.p, self._case, self._update
        for field, kind in p.field_types.items():
            for json_type in BAD_JSON_TYPES:
                value = CANONICAL[json_type]
                if json_type == kind or (kind == "number" and json_type == "integer"):
                    yield c(f"body/{field}/type:{json_type}", "UE-SEM-01", u({field: value}), compare="fold")
                else:
                    yield c(f"body/{field}/type:{json_type}", "UE-BODY-02", u({field: value}))
            for i, value in enumerate(COERCIBLE.get(kind, [])):
                yield c(f"body/{field}/coercible:{i}", "UE-BODY-02", u({field: value}))
            if kind == "boolean":
                yield c(f"body/{field}/false", "UE-SEM-01", u({field: False}), compare="fold")
            if kind == "string":
                yield from self._strings(field)
            if kind == "object":
                yield from self._objects(field)
        everything = {f: self._valid_value(f, "all") for f in p.fields}
        yield c("body/all-fields", "UE-SEM-01", u(everything), compare="fold")
        yield c("body/extra-property", "UE-BODY-01", u({**probe_body(p), "fpjs_extra": {"kept": [1]}}))
        # The field names of the other versions are unknown here: a server migrating between versions
        # may take them as aliases.
        others = {n: t for n, t in _other_versions_fields(p).items() if n not in p.fields}
        aliases = {n: self._valid_value_of(t, "other-version-name") for n, t in others.items()}
        nothing = {"empty-object": {}, "unknown-only": {"fpjs_unknown": 1}, "other-version-names": aliases}
        for name, empty in nothing.items():
            if name != "empty-object" and not empty:
                continue
            # after a known state, so that a 200 to it is read back: nothing may have changed (the key
            # in its first place: the place clauses are judged elsewhere)
            before = {f: self._valid_value(f, f"before-{name}") for f in p.fields}
            first = Credentials.of(**{self.places[0]: VALID})
            yield c(f"body/{name}", "UE-BODY-07", u(before, creds=first), u(empty, creds=first), compare="fold")
        for json_type in BAD_JSON_TYPES:
            if json_type != "object":
                yield c(f"body/not-object:{json_type}", "UE-BODY-03", u(Body.of(CANONICAL[json_type])))
        for name, raw in MALFORMED.items():
            yield c(f"body/malformed:{name}", "UE-BODY-04", u(Body.bytes_(raw)))
        text_field = (p.fields_of_type("string") or list(p.fields))[0]
        key = json.dumps(text_field).encode()
        holder = (p.fields_of_type("object") or list(p.fields))[0]
        for name, token in NOT_JSON_NUMBERS.items():
            value = b'{"n": ' + token + b"}" if p.field_types[holder] == "object" else token
            raw = b"{" + json.dumps(holder).encode() + b": " + value + b"}"
            yield c(f"body/{holder}/not-json:{name}", "UE-BODY-04", u(Body.bytes_(raw)))
        yield c("body/not-utf8:ff", "UE-BODY-04", u(Body.bytes_(b"{" + key + b': "\xff\xfe"}')))
        yield c("body/not-utf8:latin1", "UE-BODY-04", u(Body.bytes_(b"{" + key + b': "caf\xe9"}')))
        yield c("body/not-utf8:utf16", "UE-BODY-04", u(Body.bytes_(json.dumps(probe_body(p)).encode("utf-16"))))
        yield c("body/missing", "UE-BODY-05", u(NO_BODY))
        yield c("body/missing-no-content-type", "UE-BODY-05", u(NO_BODY, content_type=None))
        yield c("shape/no-content-type", "UE-OPEN-03", u(content_type=None))
        yield c("shape/text-plain", "UE-OPEN-03", u(content_type="text/plain"))
        yield c("shape/charset", "UE-OPEN-03", u(content_type="application/json; charset=utf-8"))
        sdk = {"extra_query": tuple(p.sdk_query.items()), "extra_headers": tuple(p.sdk_headers.items())}
        yield c("shape/sdk", "UE-OPEN-03", u(**sdk))

    def _valid_value(self, field: str, tag: str) -> Any:
        return self._valid_value_of(self.p.field_types[field], tag)

    @staticmethod
    def _valid_value_of(kind: str, tag: str) -> Any:
        return {"string": f"fpjs-{tag}", "object": {"fpjs": tag, "n": [1, {"x": None}]}, "boolean": True}.get(
            kind, CANONICAL.get(kind)
        )

    def _strings(self, field: str) -> Iterator[Case]:
        c, u = self._case, self._update
        limit = self.p.limits.get(field)
        top = limit.max_chars if limit and limit.max_chars else None
        lengths = {"0": 0, "1": 1, **({"limit": top} if top else {})}
        for name, n in lengths.items():
            yield c(f"body/{field}/length:{name}", "UE-SEM-01", u({field: "L" * n}), compare="fold")
        if top:
            yield c(f"body/{field}/length:limit-multibyte", "UE-SEM-01", u({field: "\u00e9" * top}), compare="fold")
            # a 200 to it must store it whole (UE-SEM-01), never cut to the limit
            yield c(f"body/{field}/length:past-limit", "UE-BODY-06", u({field: "L" * (top + 1)}), compare="fold")
        for name, text in UNICODE.items():
            yield c(f"body/{field}/unicode:{name}", "UE-SEM-01", u({field: text}), compare="fold")

    def _objects(self, field: str) -> Iterator[Case]:
        c, u = self._case, self._update
        limit = self.p.limits.get(field)
        top = limit.max_bytes if limit and limit.max_bytes else 16 * 1024
        kinds = {"s": "x", "w": " x\t", "n": 1, "f": 1.5, "b": False, "z": None, "a": [1, {"b": []}], "o": {}}
        deep: Any = {"leaf": True}
        for _ in range(31):
            deep = {"d": deep}
        deeper: Any = {"leaf": [True]}
        for _ in range(DEEPER - 1):
            deeper = {"d": deeper}
        shapes = {
            "empty": {},
            "value-kinds": kinds,
            "deep": deep,
            "deeper": deeper,
            "long-key": {"k" * 1000: 1},
            "unicode-keys": {"\u043a\u043b\u044e\u0447": "\u5024", "\U0001f98a": "e\u0301"},
            "wide": _wide(top, past=False),
            "at-limit": _padded(top),
            "at-limit-multibyte": _padded(top, "\u00e9"),
        }
        for name, value in shapes.items():
            yield c(f"body/{field}/{name}", "UE-SEM-01", u({field: value}), compare="fold")
        yield c(f"body/{field}/past-limit", "UE-BODY-06", u({field: _padded(top + 1)}), compare="fold")
        yield c(f"body/{field}/wide-past-limit", "UE-BODY-06", u({field: _wide(top, past=True)}), compare="fold")

    # -- ids --------------------------------------------------------------------------------------
    def ids(self) -> Iterator[Case]:
        c, u = self._case, self._update
        yield c("id/unknown:live-shape", "UE-ID-01", u(event_id=UNKNOWN_LIVE_SHAPE))
        yield c("id/unknown:token", "UE-ID-01", u(event_id="fpjsUnknownEvent"))
        yield c("id/unknown:longest-plain", "UE-ID-01", u(event_id="P" * _plain_max(self.p)))
        live = self.events.live
        near_ids = {
            "case-swapped": live.swapcase(),
            "last-changed": live[:-1] + ("y" if live[-1:] != "y" else "z"),
            "prefix": live[:-1],
            "extended": live + "x",
        }
        for name, event_id in near_ids.items():
            if event_id not in (live, self.events.expired, self.events.not_ready):
                yield c(f"id/unknown:{name}", "UE-ID-01", u(event_id=event_id))
        for name, event_id in ODD_IDS.items():
            yield c(f"id/odd:{name}", "UE-ID-02", u(event_id=event_id))
        yield c("id/odd:past-plain", "UE-ID-02", u(event_id="P" * (_plain_max(self.p) + 1)))
        if self.events.expired:
            yield c("id/expired", "UE-ID-03", u(event_id=self.events.expired))
        if self.events.not_ready:
            yield c("id/not-ready", "UE-TRANS-01", u(event_id=self.events.not_ready))

    def several_faults(self) -> Iterator[Case]:
        field, kind = next(iter(self.p.field_types.items()))
        wrong = {field: CANONICAL["null" if kind != "null" else "string"]}
        yield self._case("faults/wrong-type+unknown-id", "UE-OPEN-01", self._update(wrong, event_id=UNKNOWN_LIVE_SHAPE))
        yield self._case("faults/malformed+odd-id", "UE-OPEN-01", self._update(Body.bytes_(b"{"), event_id="a b"))

    # -- semantics --------------------------------------------------------------------------------
    def semantics(self) -> Iterator[Case]:
        """Sequences read back at the end: the key in its first place (the place clauses are judged elsewhere)."""
        p, c = self.p, self._case
        key = Credentials.of(**{self.places[0]: VALID})

        def u(body: Any) -> Request:
            return self._update(body, creds=key)

        for field in p.fields:
            base = {f: self._valid_value(f, f"base-for-{field}") for f in p.fields}
            changed = {field: self._valid_value(field, f"partial-{field}")}
            if p.field_types[field] == "boolean":
                changed = {field: False}
            yield c(f"semantics/partial:{field}", "UE-SEM-02", u(base), u(changed), compare="fold")
        for field in p.fields_of_type("object"):
            first = {field: {"first": 1, "shared": {"a": 1}}}
            second = {field: {"second": 2, "shared": {"b": 2}}}
            yield c(f"semantics/replace:{field}", "UE-SEM-03", u(first), u(second), compare="fold")
        repeat = {f: self._valid_value(f, "repeat") for f in p.fields}
        yield c("semantics/repeat", "UE-SEM-04", u(repeat), compare="repeat")


def _marked(request: Request, case_id: str) -> Request:
    from dataclasses import replace

    return replace(request, body=Body.of({**request.body.json_value, MARKER: case_id}))


MARKER = "fpjs_case"  # an extra property, which the schema allows: tells a step apart from an earlier request


def _other_versions_fields(profile: Profile) -> dict[str, str]:
    """The update fields of every other known version: name -> JSON type."""
    from fpjs_conformance import profile as profiles

    out: dict[str, str] = {}
    for version in profiles.versions():
        if version != profile.version:
            out.update(profiles.load(version).field_types)
    return out


def _plain_max(profile: Profile) -> int:
    """The longest id the profile's plain-id pattern allows (its last `{m,n}` bound plus one)."""
    import re

    bounds = re.findall(r"\{(\d+),(\d+)\}", profile.plain_id.pattern)
    return int(bounds[-1][1]) + 1 if bounds else 64


def _padded(size: int, char: str = "p") -> dict[str, str]:
    """An object whose JSON text is exactly `size` bytes (UTF-8), padded with `char` (and ASCII to even out)."""
    base = len(json.dumps({"pad": ""}, ensure_ascii=False).encode())
    room = max(0, size - base)
    width = len(char.encode())
    return {"pad": char * (room // width) + "p" * (room % width)}


def _wide(size: int, *, past: bool) -> dict[str, int]:
    """Many small keys: the most whose JSON text stays within `size` bytes, or the fewest past it."""
    out: dict[str, int] = {}
    length = 2  # the braces
    i = 0
    while True:
        key = f"k{i:05d}"
        item = len(json.dumps(key)) + 2 + len(str(i)) + (2 if out else 0)  # `"k00000": 0` and its `, `
        if length + item > size:
            if past:
                out[key] = i
            return out
        out[key] = i
        length += item
        i += 1
