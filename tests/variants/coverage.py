"""Mutants that only the coverage table reaches: boundary lengths, unicode classes, object shapes
and encodings that random generation all but never produces. The self-test runs them with the
`table` run profile (no random examples at all), so each is proven killed by the table alone, and
therefore in every profile."""

import json
import unicodedata

from fpjs_conformance.refserver import ReferenceServer
from tests.variants import mutant
from tests.variants.body import depth


def _bad(server, d, why):
    return server.error(d, "bad_request", why)


def _strings(body, d):
    return [body[n] for n in d.of_type("string") if isinstance(body.get(n), str)]


def _objects(body, d):
    return [body[n] for n in d.of_type("object") if isinstance(body.get(n), dict)]


def _keys(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


@mutant("string-nfc-normalized", "UE-SEM-01", coverage_only=True)
class StringNfcNormalized(ReferenceServer):
    """Stores strings NFC-normalized: decomposed accents come back composed."""

    def apply(self, event, update):
        super().apply(
            event, {k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v for k, v in update.items()}
        )


@mutant("string-cut-at-nul", "UE-SEM-01", coverage_only=True)
class StringCutAtNul(ReferenceServer):
    """Stores strings up to their first NUL (a C string in the store)."""

    def apply(self, event, update):
        super().apply(event, {k: v.split("\x00")[0] if isinstance(v, str) else v for k, v in update.items()})


@mutant("limit-counted-in-bytes", "UE-BODY-01", coverage_only=True, strict=True)
class LimitCountedInBytes(ReferenceServer):
    """Counts the string limit in UTF-8 bytes, not characters: a multibyte string at the limit is refused (the
    unit is undocumented, so this breaks only the suite's judgement: judged with --strict)."""

    def validate(self, body, d):
        super().validate(body, d)
        for name, limit in d.limits.items():
            if limit.max_chars and isinstance(body.get(name), str) and len(body[name].encode()) > limit.max_chars:
                raise _bad(self, d, f"{name} is too long")


@mutant("string-limit-off-by-one", "UE-BODY-01", coverage_only=True, strict=True)
class StringLimitOffByOne(ReferenceServer):
    """Refuses a string of exactly the limit (`>=` for `>`): the suite's judgement, judged with --strict."""

    def validate(self, body, d):
        super().validate(body, d)
        for name, limit in d.limits.items():
            if limit.max_chars and isinstance(body.get(name), str) and len(body[name]) >= limit.max_chars:
                raise _bad(self, d, f"{name} is too long")


@mutant("object-limit-off-by-one", "UE-BODY-01", coverage_only=True, strict=True)
class ObjectLimitOffByOne(ReferenceServer):
    """Refuses an object whose JSON text is exactly the byte limit: the suite's judgement, judged with --strict."""

    def validate(self, body, d):
        super().validate(body, d)
        for name, limit in d.limits.items():
            value = body.get(name)
            size = len(json.dumps(value, ensure_ascii=False).encode()) if isinstance(value, dict) else 0
            if limit.max_bytes and size >= limit.max_bytes:
                raise _bad(self, d, f"{name} is too large")


@mutant("deep-object-rejected", "UE-BODY-01", coverage_only=True)
class DeepObjectRejected(ReferenceServer):
    """Refuses objects nested deeper than 16 levels (well within the byte limit)."""

    def validate(self, body, d):
        super().validate(body, d)
        if any(depth(v) > 16 for v in _objects(body, d)):
            raise _bad(self, d, "too deep")


@mutant("wide-object-rejected", "UE-BODY-01", coverage_only=True)
class WideObjectRejected(ReferenceServer):
    """Refuses objects with more than 100 keys (well within the byte limit)."""

    def validate(self, body, d):
        super().validate(body, d)
        if any(len(v) > 100 for v in _objects(body, d)):
            raise _bad(self, d, "too many keys")


@mutant("long-key-crash", "UE-RESP-02", coverage_only=True)
class LongKeyCrash(ReferenceServer):
    """Crashes (500) on an object key longer than 255 characters (a column it does not fit)."""

    def validate(self, body, d):
        if any(len(k) > 255 for v in _objects(body, d) for k in _keys(v)):
            raise OverflowError("key does not fit the column")
        super().validate(body, d)


@mutant("astral-crash", "UE-RESP-02", coverage_only=True)
class AstralCrash(ReferenceServer):
    """Crashes (500) on characters outside the basic plane in a string (a 3-byte UTF-8 store)."""

    def validate(self, body, d):
        if any(ord(ch) > 0xFFFF for s in _strings(body, d) for ch in s):
            raise UnicodeEncodeError("utf8mb3", "", 0, 1, "4-byte character")
        super().validate(body, d)


@mutant("empty-string-rejected", "UE-BODY-01", coverage_only=True)
class EmptyStringRejected(ReferenceServer):
    """Refuses an empty string (a presence test where a type test is due)."""

    def validate(self, body, d):
        super().validate(body, d)
        if "" in _strings(body, d):
            raise _bad(self, d, "must not be empty")


@mutant("bidi-rejected", "UE-BODY-01", coverage_only=True)
class BidiRejected(ReferenceServer):
    """Refuses strings with bidirectional control characters (a filter too eager)."""

    def validate(self, body, d):
        super().validate(body, d)
        if any(unicodedata.bidirectional(ch) in ("RLO", "LRO", "RLE", "LRE") for s in _strings(body, d) for ch in s):
            raise _bad(self, d, "bidi controls are not allowed")


@mutant("utf16-accepted", "UE-BODY-04", coverage_only=True)
class Utf16Accepted(ReferenceServer):
    """Accepts a UTF-16 body (decodes by its byte-order mark) instead of refusing what is not UTF-8."""

    def parse_body(self, raw, d):
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raw = raw.decode("utf-16").encode()
        return super().parse_body(raw, d)


@mutant("past-limit-cut-to-limit", "UE-SEM-01", coverage_only=True)
class PastLimitCutToLimit(ReferenceServer):
    """Answers 200 to a string past its limit and stores it cut to the limit (a VARCHAR(256) column)."""

    def validated_body(self, raw, d):
        body = self.parse_body(raw, d)
        for name, limit in d.limits.items():
            if limit.max_chars and isinstance(body.get(name), str):
                body[name] = body[name][: limit.max_chars]
        self.validate(body, d)
        return body


@mutant("empty-update-wipes", "UE-SEM-01", "UE-SEM-02", "UE-BODY-07", coverage_only=True)
class EmptyUpdateWipes(ReferenceServer):
    """Answers 200 to an update that names no known field, and clears every field (a full replace)."""

    def validate(self, body, d):
        if any(name in body for name in d.types):
            super().validate(body, d)

    def update_of(self, body, d):
        return super().update_of(body, d) or dict.fromkeys(d.fields.values())


@mutant("key-last-char-ignored", "UE-AUTH-03", coverage_only=True)
class KeyLastCharIgnored(ReferenceServer):
    """Compares the key without its last character (an off-by-one in a constant-time compare)."""

    def authenticate(self, request, d):
        keys = self.credentials(request, d)
        if any(len(k) == len(self.settings.api_key) and k[:-1] == self.settings.api_key[:-1] for k in keys):
            return
        super().authenticate(request, d)


@mutant("id-lookup-case-insensitive", "UE-ID-01", coverage_only=True)
class IdLookupCaseInsensitive(ReferenceServer):
    """Finds events by id in any letter case (a case-insensitive collation on the id column)."""

    def find_event(self, event_id, d):
        for known, event in self.events.items():
            if known.lower() == event_id.lower():
                return event
        return super().find_event(event_id, d)


@mutant("not-json-numbers-accepted", "UE-BODY-04", coverage_only=True)
class NotJsonNumbersAccepted(ReferenceServer):
    """Parses NaN and Infinity as numbers (Python's json defaults), so such a body is stored."""

    def parse_body(self, raw, d):
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return super().parse_body(raw, d)
        return value if isinstance(value, dict) else super().parse_body(raw, d)


@mutant("deeper-object-crash", "UE-RESP-02", coverage_only=True)
class DeeperObjectCrash(ReferenceServer):
    """Crashes (500) on an object nested more than 100 levels deep (a recursive store encoder)."""

    def validate(self, body, d):
        if any(depth(v) > 100 for v in _objects(body, d)):
            raise RecursionError("maximum recursion depth exceeded")
        super().validate(body, d)


@mutant("strings-stripped", "UE-SEM-01", coverage_only=True)
class StringsStripped(ReferenceServer):
    """Stores strings with surrounding white space stripped (a form-input habit)."""

    def apply(self, event, update):
        super().apply(event, {k: v.strip() if isinstance(v, str) else v for k, v in update.items()})


@mutant("empty-string-read-as-null", "UE-SEM-01", coverage_only=True)
class EmptyStringReadAsNull(ReferenceServer):
    """Stores an empty string and reads it back as null (a nullable column that maps "" to NULL)."""

    def read(self, event, d):
        body = super().read(event, d)
        node = body
        for part in d.container:
            node = node[part]
        for wire in d.of_type("string"):
            if node.get(wire) == "":
                node[wire] = None
        return body


@mutant("scheme-glued-accepted", "UE-AUTH-09", coverage_only=True)
class SchemeGluedAccepted(ReferenceServer):
    """Takes the key after the scheme word however it is joined (`Bearer<key>`, `Bearer:<key>`)."""

    def scheme_value(self, value, place):
        if place.scheme and value.strip().lower().startswith(place.scheme.lower()):
            return value.strip()[len(place.scheme) :].lstrip(" :")
        return super().scheme_value(value, place)


@mutant("key-padding-stripped", "UE-AUTH-03", coverage_only=True)
class KeyPaddingStripped(ReferenceServer):
    """Drops trailing `=` from the key before comparing (a lenient base64 decode)."""

    def credentials(self, request, d):
        return [k.rstrip("=") for k in super().credentials(request, d)]


@mutant("id-prefix-match", "UE-ID-01", coverage_only=True)
class IdPrefixMatch(ReferenceServer):
    """Finds an event by an id its own id starts with (`LIKE 'id%'`)."""

    def find_event(self, event_id, d):
        for known, event in self.events.items():
            if event_id and known.startswith(event_id):
                return event
        return super().find_event(event_id, d)


@mutant("object-limit-counted-escaped", "UE-BODY-01", coverage_only=True, strict=True)
class ObjectLimitCountedEscaped(ReferenceServer):
    """Counts an object's size in its ASCII-escaped JSON text (`\\u00e9` is 6 bytes, not 2): the suite's
    judgement, judged with --strict."""

    def validate(self, body, d):
        super().validate(body, d)
        for name, limit in d.limits.items():
            value = body.get(name)
            if limit.max_bytes and isinstance(value, dict) and len(json.dumps(value)) > limit.max_bytes:
                raise _bad(self, d, f"{name} is too large")


@mutant("other-version-names-taken", "UE-SEM-01", "UE-BODY-07", coverage_only=True)
class OtherVersionNamesTaken(ReferenceServer):
    """Takes the other API version's field names as aliases (a server serving both from one model)."""

    def parse_body(self, raw, d):
        body = super().parse_body(raw, d)
        aliases = {"linkedId": "linked_id", "tag": "tags", "linked_id": "linkedId", "tags": "tag"}
        for alias, name in aliases.items():
            if alias in body and alias not in d.types and name in d.types:
                body[name] = body.pop(alias)
        return body
