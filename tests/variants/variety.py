"""Mutants made outside the reference server's own pattern: how real servers break on what real
clients and real data vary (contracts/variety.toml). Near misses of a name taken for the name (Go's
case-insensitive JSON keys, a migration alias layer, trimmed keys, a "did you mean" layer, a WSGI
server folding `_` into `-`, a case-insensitive query lookup, a scheme compared by its first
letters); string classes refused or mangled (private use, noncharacters, blank strings, format
characters stripped, NFKC, line separators replaced, surrogate-pair escapes split, escaped names
not unescaped, upper-case hex refused); answers that depend on the optional headers (no Accept, a
strictly parsed Accept, a charset or media type compared exactly, no User-Agent, no
Accept-Encoding). Each is killed by the coverage table alone."""

import json
import re
import unicodedata

from starlette.responses import PlainTextResponse

from fpjs_conformance.refserver import ReferenceServer
from tests.variants import mutant


def _bad(server, d, why):
    return server.error(d, "bad_request", why)


def strings_of(value):
    """Every string in a JSON value: values, and the keys of objects."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_of(v)


def mapped(value, fn):
    """The JSON value with `fn` applied to every string in it (object keys too)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {fn(k): mapped(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [mapped(v, fn) for v in value]
    return value


def _known_strings(body, d):
    return [s for name in d.types if name in body for s in strings_of(body[name])]


class StoresMapped(ReferenceServer):
    """Base: stores every string of an update (object keys too) as `store` makes it."""

    def store(self, text: str) -> str:
        return text

    def apply(self, event, update):
        super().apply(event, {k: mapped(v, self.store) for k, v in update.items()})


class Refuses(ReferenceServer):
    """Base: refuses (400) a valid body holding a string with a character `refused` says no to."""

    def refused(self, ch: str) -> bool:
        return False

    def validate(self, body, d):
        super().validate(body, d)
        if any(self.refused(ch) for s in _known_strings(body, d) for ch in s):
            raise _bad(self, d, "characters of this kind are not allowed")


class Front(ReferenceServer):
    """Base: an update whose request `screen` objects to gets that answer first, before any step."""

    def screen(self, request, d):
        return None

    async def update(self, request, d):
        answer = self.screen(request, d)
        return answer if answer is not None else await super().update(request, d)


# -- near misses of a name taken for the name -------------------------------------------------------
@mutant("json-keys-case-insensitive", "UE-SEM-01", "UE-SEM-02", coverage_only=True)
class JsonKeysCaseInsensitive(ReferenceServer):
    """Matches body keys to the fields ignoring letter case, the last matching key winning (Go's
    encoding/json): `LINKEDID` after `linkedId` overwrites it."""

    def parse_body(self, raw, d):
        out = {}
        for k, v in super().parse_body(raw, d).items():
            out[next((f for f in d.types if f.lower() == k.lower()), k)] = v
        return out


def _bare(name: str) -> str:
    return re.sub(r"[-_]", "", name).lower()


@mutant("field-aliases-by-convention", "UE-SEM-01", "UE-SEM-02", "UE-BODY-07", coverage_only=True)
class FieldAliasesByConvention(ReferenceServer):
    """A migration alias layer: a key naming a field in another convention (camelCase, snake_case,
    kebab-case, PascalCase) stands for the field when the body does not send the field itself."""

    def parse_body(self, raw, d):
        body = super().parse_body(raw, d)
        for field in d.types:
            alias = next((k for k in body if k != field and _bare(k) == _bare(field)), None)
            if field not in body and alias is not None:
                body[field] = body[alias]
        return body


@mutant("keys-trimmed", "UE-SEM-01", "UE-SEM-02", coverage_only=True)
class KeysTrimmed(ReferenceServer):
    """Trims white space around body keys (a framework's form habit): ` linkedId` is `linkedId`."""

    def parse_body(self, raw, d):
        return {k.strip(): v for k, v in super().parse_body(raw, d).items()}


def _one_edit(a: str, b: str) -> bool:
    """Levenshtein distance exactly 1."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


@mutant("typo-tolerant-fields", "UE-SEM-01", "UE-SEM-02", "UE-BODY-07", coverage_only=True)
class TypoTolerantFields(ReferenceServer):
    """A "did you mean" layer: a key one edit away from a field's name stands for the field when the
    body does not send it."""

    def parse_body(self, raw, d):
        body = super().parse_body(raw, d)
        for field in d.types:
            typo = next((k for k in body if _one_edit(k, field)), None)
            if field not in body and typo is not None:
                body[field] = body[typo]
        return body


@mutant("header-underscores-folded", "UE-AUTH-01", versions=("v3",), coverage_only=True)
class HeaderUnderscoresFolded(ReferenceServer):
    """Reads header names as CGI and WSGI do (`HTTP_AUTH_API_KEY`): `_` and `-` alike, any case, so the
    key under `Auth_API_Key` counts. (v4's `Authorization` has no separator to fold.)"""

    def credentials(self, request, d):
        keys = super().credentials(request, d)
        for place in d.places:
            if place.location != "header":
                continue
            for name, value in request.headers.items():
                if name != place.field.lower() and name.replace("_", "-") == place.field.lower().replace("_", "-"):
                    key = self.scheme_value(value, place).strip()
                    keys += [key] if key else []
        return keys


@mutant("query-name-case-insensitive", "UE-AUTH-01", versions=("v3",), coverage_only=True)
class QueryNameCaseInsensitive(ReferenceServer):
    """Looks the key's query parameter up ignoring letter case: `API_KEY=<key>` authenticates."""

    def credentials(self, request, d):
        keys = super().credentials(request, d)
        for place in d.places:
            if place.location != "query":
                continue
            for name, value in request.query_params.multi_items():
                if name != place.field and name.lower() == place.field.lower() and value.strip():
                    keys.append(value.strip())
        return keys


@mutant("scheme-compared-by-prefix", "UE-AUTH-09", coverage_only=True)
class SchemeComparedByPrefix(ReferenceServer):
    """Compares the scheme word by its first five letters: `Bearerr <key>` and `Beares <key>` authenticate."""

    def scheme_value(self, value, place):
        word, _, rest = value.strip().partition(" ")
        if place.scheme and rest.strip() and word[:5].lower() == place.scheme[:5].lower():
            return rest.strip()
        return super().scheme_value(value, place)


# -- string classes refused or mangled --------------------------------------------------------------
@mutant("private-use-rejected", "UE-BODY-01", coverage_only=True)
class PrivateUseRejected(Refuses):
    """Refuses strings with private-use code points (a "printable text only" filter)."""

    def refused(self, ch):
        return unicodedata.category(ch) == "Co"


@mutant("noncharacters-rejected", "UE-BODY-01", coverage_only=True)
class NoncharactersRejected(Refuses):
    """Refuses strings with noncharacters (U+FDD0..U+FDEF, U+nFFFE, U+nFFFF): valid scalar values."""

    def refused(self, ch):
        cp = ord(ch)
        return 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE


@mutant("blank-string-rejected", "UE-BODY-01", coverage_only=True)
class BlankStringRejected(ReferenceServer):
    """Refuses a string field that is all white space ("must not be blank"; the empty string passes)."""

    def validate(self, body, d):
        super().validate(body, d)
        if any(isinstance(body.get(n), str) and body[n] and not body[n].strip() for n in d.of_type("string")):
            raise _bad(self, d, "must not be blank")


@mutant("format-chars-stripped", "UE-SEM-01", "UE-SEM-02", coverage_only=True)
class FormatCharsStripped(StoresMapped):
    """Strips format characters (zero-width space and joiner, BOM, bidi controls) from stored strings."""

    def store(self, text):
        return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


@mutant("nfkc-normalized", "UE-SEM-01", "UE-SEM-02", coverage_only=True)
class NfkcNormalized(StoresMapped):
    """Stores strings NFKC-normalized (a search index's habit): `²` becomes `2`, `ǅ` becomes `Dž`."""

    def store(self, text):
        return unicodedata.normalize("NFKC", text)


@mutant("line-separators-replaced", "UE-SEM-01", "UE-SEM-02", coverage_only=True)
class LineSeparatorsReplaced(StoresMapped):
    """Replaces U+2028 and U+2029 with a newline (a pass making JSON safe for old JavaScript)."""

    def store(self, text):
        return text.replace("\u2028", "\n").replace("\u2029", "\n")


PAIR = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


@mutant("surrogate-pairs-split", "UE-SEM-01", coverage_only=True)
class SurrogatePairsSplit(ReferenceServer):
    """Decodes a surrogate-pair escape (`\\ud83e\\udd8a`) as two replacement characters, one per half
    (a decoder that does not join pairs)."""

    def parse_body(self, raw, d):
        return super().parse_body(PAIR.sub(rb"\\ufffd\\ufffd", raw), d)


LONE = re.compile("[\ud800-\udfff]")  # after decoding, a pair is one character: what is left is lone


@mutant("lone-surrogates-replaced", "UE-SEM-01", "UE-BODY-01", coverage_only=True)
class LoneSurrogatesReplaced(ReferenceServer):
    """Takes a lone surrogate escape and stores U+FFFD in its place (Go's encoding/json does): the
    contract leaves it open as stored exactly or refused, never stored changed."""

    def parse_body(self, raw, d):
        try:
            value = json.loads(raw.decode("utf-8"))
        except ValueError:
            return super().parse_body(raw, d)
        fixed = mapped(value, lambda s: LONE.sub("\ufffd", s))
        return super().parse_body(json.dumps(fixed, ensure_ascii=False).encode("utf-8"), d)


KEY = re.compile(rb'"((?:[^"\\]|\\.)*)"(\s*:)')


@mutant("escaped-names-not-unescaped", "UE-BODY-01", "UE-SEM-01", coverage_only=True)
class EscapedNamesNotUnescaped(ReferenceServer):
    """Takes object keys as their JSON text, escapes not undone (a streaming parser comparing key
    tokens): `"\\u0074ags"` is not `tags`."""

    def parse_body(self, raw, d):
        return super().parse_body(KEY.sub(lambda m: b'"' + m[1].replace(b"\\", b"\\\\") + b'"' + m[2], raw), d)


@mutant("upper-hex-escapes-refused", "UE-BODY-01", coverage_only=True)
class UpperHexEscapesRefused(ReferenceServer):
    """Refuses `\\u` escapes with upper-case hex digits (a hand-written decoder; JSON allows either case)."""

    def parse_body(self, raw, d):
        if re.search(rb"\\u[0-9a-f]{0,3}[A-F]", raw):
            raise _bad(self, d, "bad escape")
        return super().parse_body(raw, d)


# -- answers that depend on the optional headers ----------------------------------------------------
@mutant("accept-required", "UE-HTTP-02", "UE-RESP-01", coverage_only=True)
class AcceptRequired(Front):
    """Answers 406 to a request without Accept (which RFC 9110, 12.5.1 makes any media type)."""

    def screen(self, request, d):
        if "accept" not in request.headers:
            return PlainTextResponse("Not Acceptable", status_code=406)
        return None


@mutant("accept-parsed-strictly", "UE-HTTP-02", "UE-RESP-01", coverage_only=True)
class AcceptParsedStrictly(Front):
    """Answers 406 unless Accept is absent or exactly `*/*` or `application/json` (no q-values, no lists)."""

    def screen(self, request, d):
        if request.headers.get("accept", "*/*") not in ("*/*", "application/json"):
            return PlainTextResponse("Not Acceptable", status_code=406)
        return None


@mutant("charset-compared-exactly", "UE-HTTP-02", coverage_only=True)
class CharsetComparedExactly(Front):
    """Refuses (400) a JSON Content-Type other than `application/json` or `application/json; charset=utf-8`
    spelled so: `application/json;charset=UTF-8` is refused."""

    def screen(self, request, d):
        ct = request.headers.get("content-type", "")
        if ct.lower().startswith("application/json") and ct not in (
            "application/json",
            "application/json; charset=utf-8",
        ):
            return _bad(self, d, "unsupported content type").response
        return None


@mutant("media-type-case-sensitive", "UE-HTTP-02", "UE-RESP-01", coverage_only=True)
class MediaTypeCaseSensitive(Front):
    """Answers 415 when the JSON media type is not in lower case (`Application/JSON`)."""

    def screen(self, request, d):
        media = request.headers.get("content-type", "").split(";")[0].strip()
        if media.lower() == "application/json" and media != "application/json":
            return PlainTextResponse("Unsupported Media Type", status_code=415)
        return None


@mutant("user-agent-required", "UE-HTTP-02", coverage_only=True)
class UserAgentRequired(Front):
    """Refuses (400) a request without User-Agent (a bot filter)."""

    def screen(self, request, d):
        return None if request.headers.get("user-agent") else _bad(self, d, "a User-Agent is required").response


@mutant("accept-encoding-assumed", "UE-HTTP-02", "UE-RESP-02", coverage_only=True)
class AcceptEncodingAssumed(Front):
    """Crashes (500) on a request without Accept-Encoding (a compression layer that indexes the header)."""

    def screen(self, request, d):
        if "accept-encoding" not in request.headers:
            raise KeyError("accept-encoding")  # the behaviour under test: a 500
        return None
