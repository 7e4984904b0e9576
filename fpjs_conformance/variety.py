"""Variety: the class tables of `contracts/variety.toml`, turned into probes for one version.

Near misses of a name (a body field, the key's query parameter or header, the auth scheme word),
character classes derived from `unicodedata` (every general category JSON text may carry, the
noncharacters, and what a version leaves open), the JSON escapes of a string, and the shapes real
clients give the optional request headers. Pure functions of the data file and the profile: the
coverage table's rules (`fpjs_conformance.rules`) build their cases from them.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from typing import Any

from fpjs_conformance import profile as profiles
from fpjs_conformance.profile import Profile

DATA = "variety.toml"
PLANE = 0x10000


@functools.cache
def data() -> dict[str, Any]:
    """The class tables (a folder of $FPJS_PROFILE_PATH may stand in its own `variety.toml`)."""
    for folder in reversed(profiles.data_dirs()):
        path = folder / DATA
        if path.is_file():
            with path.open("rb") as fh:
                return tomllib.load(fh)
    raise profiles.ProfileError(f"no {DATA} in {', '.join(str(d) for d in profiles.data_dirs())}")


def code_point(text: str) -> int:
    """`U+00E9` -> 0xE9."""
    if not re.fullmatch(r"U\+[0-9A-Fa-f]{4,6}", text):
        raise profiles.ProfileError(f"{DATA}: {text!r} is not a code point (U+XXXX)")
    return int(text[2:], 16)


# -- near misses of a name --------------------------------------------------------------------------
def words(name: str) -> list[str]:
    """The words of a name in any convention: `linkedId`, `linked_id`, `Auth-API-Key`, `APIKey`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return [w for w in re.split(r"[\s_\-]+", spaced) if w]


def _next_letter(ch: str) -> str:
    if not ch.isascii() or not ch.isalpha():
        return "x" if ch != "x" else "y"
    base = "a" if ch.islower() else "A"
    return chr(ord(base) + (ord(ch) - ord(base) + 1) % 26)


def _swap_separators(name: str) -> str:
    return name.translate(str.maketrans({"-": "_", "_": "-"}))


def _plural(name: str) -> str:
    return name[:-1] if name.endswith("s") else name + "s"


TRANSFORMS = {
    "lower": str.lower,
    "upper": str.upper,
    "capitalized": lambda n: n[:1].upper() + n[1:],
    "swap-case": str.swapcase,
    "camel": lambda n: "".join(w.lower() if i == 0 else w.capitalize() for i, w in enumerate(words(n))),
    "pascal": lambda n: "".join(w.capitalize() for w in words(n)),
    "snake": lambda n: "_".join(w.lower() for w in words(n)),
    "kebab": lambda n: "-".join(w.lower() for w in words(n)),
    "separators-swapped": _swap_separators,
    "no-separators": lambda n: re.sub(r"[_\-]", "", n),
    "space-before": lambda n: " " + n,
    "space-after": lambda n: n + " ",
    "tab-after": lambda n: n + "\t",
    "add-char": lambda n: n + n[-1:],
    "drop-char": lambda n: n[:-1],
    "change-char": lambda n: n[:-1] + _next_letter(n[-1:]),
    "plural": _plural,
}
HTTP_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110, 5.6.2: a header name


def near_misses(name: str, kind: str, *, others: tuple[str, ...] = (), known: tuple[str, ...] = ()) -> list[str]:
    """The near misses of `name` of this kind (`field`, `query`, `header`, `scheme`), in table order.

    `others`: the names other versions give the same thing (the `other-versions` transform); `known`:
    names that are not misses in this version (its other fields). Headers drop a miss that is the name
    ignoring case (UE-HTTP-01's) or not an HTTP token; names differing only in case are sent once.
    """
    out: list[str] = []
    seen = {name, *known}
    folded = {name.lower()} if kind == "header" else set()
    for transform in data()["near_misses"][kind]:
        found = list(others) if transform == "other-versions" else [TRANSFORMS[transform](name)]
        for miss in found:
            if (
                not miss
                or miss in seen
                or (kind == "header" and (miss.lower() in folded or not HTTP_TOKEN.fullmatch(miss)))
            ):
                continue
            seen.add(miss)
            if kind == "header":
                folded.add(miss.lower())
            out.append(miss)
    return out


def other_versions_names(profile: Profile, name: str) -> tuple[str, ...]:
    """What the other known versions call the field `name` of this version (by its store name)."""
    store = profile.field_names[name]
    out = []
    for version in profiles.versions():
        if version != profile.version:
            other = profiles.load(version)
            out += [n for n, s in other.field_names.items() if s == store and n != name]
    return tuple(dict.fromkeys(out))


def field_near_misses(profile: Profile) -> dict[str, list[str]]:
    """Every body field -> its near misses: none of them a field of this version, none shared."""
    out: dict[str, list[str]] = {}
    taken: set[str] = set()
    for name in profile.fields:
        misses = near_misses(name, "field", others=other_versions_names(profile, name), known=profile.fields)
        out[name] = [m for m in misses if m not in taken]
        taken.update(out[name])
    return out


# -- character classes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CharClass:
    """A class of characters and its representatives (code points)."""

    name: str  # the general category (`Lu`), `noncharacter`, or an open class's name
    code_points: tuple[int, ...]
    group: str  # what a single string field's value of only one class takes it under
    category: str = ""  # the general category its code points have (noncharacters: none of their own)

    def only(self) -> str:
        """A value made of this class alone."""
        return "".join(map(chr, self.code_points))

    def mixed(self) -> str:
        """A value mixing this class with ASCII letters (a letter before each representative)."""
        letters = data()["strings"]["letters"]
        return "".join(letters[i % len(letters)] + chr(cp) for i, cp in enumerate(self.code_points)) + letters[0]


def _group(name: str) -> str:
    groups = data()["strings"]["field_groups"]
    return next((g for g in sorted(groups, key=len, reverse=True) if name.startswith(g)), name)


@functools.cache
def classes() -> tuple[CharClass, ...]:
    """Every class of `[strings]`: the categories (representatives derived, at most one plane past each
    start), then the noncharacters. The open classes are apart (`open_classes`)."""
    spec = data()["strings"]
    starts = [code_point(s) for s in spec["starts"]]
    bounds = [*starts[1:], 0x110000]
    wanted = list(spec["categories"])
    first: dict[str, list[int]] = {c: [] for c in wanted}
    for start, end in zip(starts, bounds, strict=True):
        missing = set(wanted)
        for cp in range(start, min(end, start + PLANE)):
            cat = unicodedata.category(chr(cp))
            if cat in missing:
                first[cat].append(cp)
                missing.discard(cat)
                if not missing:
                    break
    also = {cat: [code_point(c) for c in cps] for cat, cps in spec.get("also", {}).items()}
    out = []
    for cat in wanted:
        extra = also.get(cat, [])
        wrong = [f"U+{cp:04X}" for cp in extra if unicodedata.category(chr(cp)) != cat]
        if wrong:
            raise profiles.ProfileError(f"{DATA}: [strings.also] {cat}: {', '.join(wrong)} not of that category")
        cps = tuple(dict.fromkeys([*first[cat], *extra]))
        if not cps:
            raise profiles.ProfileError(f"{DATA}: no code point of category {cat} found")
        out.append(CharClass(cat, cps, _group(cat), cat))
    non = spec["noncharacters"]
    cps = [cp for lo, hi in non["ranges"] for cp in (code_point(lo), code_point(hi))]
    cps += [plane * PLANE + end for plane in non["plane_ends"] for end in (0xFFFE, 0xFFFF)]
    out.append(CharClass("noncharacter", tuple(cps), "noncharacter"))
    return tuple(out)


@functools.cache
def open_classes() -> dict[str, CharClass]:
    """The classes JSON text can carry that are not Unicode text (lone surrogates), by name."""
    out = {}
    for name, spec in data()["strings"].get("open", {}).items():
        cps = tuple(code_point(c) for c in spec["code_points"])
        wrong = [f"U+{cp:04X}" for cp in cps if unicodedata.category(chr(cp)) != spec["category"]]
        if wrong:
            raise profiles.ProfileError(f"{DATA}: [strings.open] {name}: {', '.join(wrong)} not {spec['category']}")
        out[name] = CharClass(name, cps, name, spec["category"])
    return out


def open_strings(profile: Profile, *, sent: bool = False) -> dict[str, dict[str, str]]:
    """The open classes this version says what it may get (`[open_strings]`): name -> {role, why}.
    `sent`: only those the coverage table sends (`send` in `[strings.open]`, true unless it says not)."""
    found = dict(profile.data.get("open_strings", {}))
    unknown = sorted(set(found) - set(open_classes()))
    if unknown:
        raise profiles.ProfileError(f"{profile.version}.toml: [open_strings] names no class of {DATA}: {unknown}")
    spec = data()["strings"].get("open", {})
    return {name: how for name, how in found.items() if not sent or spec[name].get("send", True)}


def open_class_in(value: Any) -> str | None:
    """The open class a string (or object key) anywhere in `value` holds a code point of, if any."""
    if isinstance(value, str):
        categories = {unicodedata.category(ch) for ch in set(value)}
        return next((name for name, cls in open_classes().items() if cls.category in categories), None)
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    return next((found for found in map(open_class_in, items) if found), None)


def field_values(profile: Profile, field: str) -> list[tuple[str, str]]:
    """Values of only one class for a single string field: (group, value), one per group, short of its limit
    by every count (a refusal of one is then never the limit's)."""
    limit = profile.limits.get(field)
    groups: dict[str, str] = {}
    for cls in classes():
        groups[cls.group] = groups.get(cls.group, "") + cls.only()
    return [(g, _short_of(limit, v)) for g, v in groups.items()]


def mixed_values(profile: Profile, field: str) -> list[str]:
    """Every class mixed with ASCII letters, in as few values of a single string field as stay short of its
    limit by every count."""
    limit = profile.limits.get(field)
    out, value = [], ""
    for cls in classes():
        part = cls.mixed()
        if value and _short_of(limit, value + part) != value + part:
            out.append(value)
            value = ""
        value += part
    return [*out, value] if value else out


def _short_of(limit: profiles.Limit | None, value: str) -> str:
    """The longest start of `value` that no count puts at the limit (`Limit.at_limit`)."""
    if limit is None or limit.max_chars is None:
        return value
    while value and (limit.at_limit(value) or limit.exceeded_by(value)):
        value = value[:-1]
    return value


def object_of_classes(mark: tuple[str, Any]) -> dict[str, Any]:
    """Every class as keys and as values at once: `only` key -> `mixed` value, and the reverse."""
    out: dict[str, Any] = {mark[0]: mark[1]}
    for cls in classes():
        out[cls.only()] = cls.mixed()
        out[cls.mixed()] = cls.only()
    if len(out) != 1 + 2 * len(classes()):
        raise profiles.ProfileError(f"{DATA}: two classes give the same key")
    return out


# -- JSON text and its escapes ----------------------------------------------------------------------
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(text: str, *, upper: bool = False, letters: bool = False) -> str:
    """`text` as a JSON string literal with every character but the ASCII letters (`letters`: those too)
    escaped: the short escapes where JSON has one (the solidus too), `\\uXXXX` otherwise, a surrogate
    pair past U+FFFF (a lone surrogate as itself); hex digits in upper or lower case."""
    out = ['"']
    for ch in text:
        cp = ord(ch)
        if ch.isascii() and ch.isalpha() and not letters:
            out.append(ch)
        elif ch in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[ch])
        elif cp < PLANE:
            out.append(f"\\u{cp:04X}" if upper else f"\\u{cp:04x}")
        else:
            hi, lo = 0xD800 + ((cp - PLANE) >> 10), 0xDC00 + ((cp - PLANE) & 0x3FF)
            out.append(f"\\u{hi:04X}\\u{lo:04X}" if upper else f"\\u{hi:04x}\\u{lo:04x}")
    return "".join(out) + '"'


def json_text(value: Any, *, escape: bool = False, upper: bool = False) -> str:
    """JSON text of `value`: strings (keys included) raw as UTF-8 allows (`ensure_ascii=False`, with the
    controls JSON must escape), or all escaped (`escaped`)."""

    def text(v: Any) -> str:
        return json_text(v, escape=escape, upper=upper)

    if isinstance(value, dict):
        return "{" + ", ".join(f"{text(k)}: {text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(text, value)) + "]"
    if isinstance(value, str):
        return escaped(value, upper=upper) if escape else json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


WRITINGS = ("raw", "escaped", "ESCAPED")  # a value's strings: raw, escaped with lower- or upper-case hex


def body_text(members: list[tuple[str, Any, str]]) -> bytes:
    """A body's JSON text member by member: (name, value, how), how one of `WRITINGS`, prefixed with
    "name+" to escape every character of the name as well (JSON text for the same member)."""
    parts = []
    for name, value, how in members:
        writing = how.removeprefix("name+")
        if writing not in WRITINGS:
            raise ValueError(f"how a member is written: {how!r}")
        key = escaped(name, letters=True, upper=writing == "ESCAPED") if how.startswith("name+") else json.dumps(name)
        parts.append(f"{key}: {json_text(value, escape=writing != 'raw', upper=writing == 'ESCAPED')}")
    return ("{" + ", ".join(parts) + "}").encode("utf-8")


# -- requests as real clients make them -------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """One way a real client sends the optional headers (and the JSON media type)."""

    name: str
    headers_as: tuple[tuple[str, str | None], ...] = ()
    content_type: str | None = None  # None: the suite's own `application/json`

    def request_kw(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"headers_as": self.headers_as}
        if self.content_type is not None:
            kw["content_type"] = self.content_type
        return kw


@functools.cache
def shapes() -> tuple[Shape, ...]:
    """Every header shape of `[headers]` and `[content_type]`: each optional header left out alone,
    each value alone, each client whole, each JSON media type."""
    spec = data()["headers"]
    out = [Shape(f"no {name}", ((name, None),)) for name in spec["optional"]]
    for name, values in spec.get("values", {}).items():
        out += [Shape(f"{name}: {v}", ((name, v),)) for v in values]
    for client, how in spec.get("clients", {}).items():
        parts = tuple((name, None) for name in how.get("omit", [])) + tuple(how.get("send", {}).items())
        out.append(Shape(client, parts))
    out += [Shape(f"Content-Type: {ct}", (), ct) for ct in data()["content_type"]["json"]]
    return tuple(out)


def json_media(content_type: str | None) -> bool:
    """The JSON media type, whatever its letter case and parameters (RFC 9110, 8.3.1)."""
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == "application/json"
