"""Body mutants: wrong types accepted, valid bodies rejected, malformed bodies accepted, crashes (500)
on unusual input. Fields are found by their JSON type in the dialect, so each mutant breaks every
version the same way."""

import json

from fpjs_conformance.refserver import ReferenceServer
from tests.variants import mutant


def _bad(server, d, why):
    return server.error(d, "bad_request", why)


def _first(d, kind):
    return d.of_type(kind)[0]


# -- wrong types accepted ---------------------------------------------------------------------------
@mutant("null-accepted", "UE-BODY-02")
class NullAccepted(ReferenceServer):
    """Accepts null for a field (treated as absent)."""

    def validate(self, body, d):
        kept = {k: v for k, v in body.items() if v is not None}
        super().validate(kept or {_first(d, "string"): ""}, d)


@mutant("boolean-string-accepted", "UE-BODY-02")
class BooleanStringAccepted(ReferenceServer):
    """Coerces "true"/"false" strings to booleans instead of rejecting them."""

    def validate(self, body, d):
        for name in d.of_type("boolean"):
            value = body.get(name)
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                body[name] = value.strip().lower() == "true"
        super().validate(body, d)


@mutant("boolean-int-accepted", "UE-BODY-02")
class BooleanIntAccepted(ReferenceServer):
    """Coerces 0/1 to booleans instead of rejecting them."""

    def validate(self, body, d):
        for name in d.of_type("boolean"):
            if type(body.get(name)) is int and body[name] in (0, 1):
                body[name] = bool(body[name])
        super().validate(body, d)


@mutant("object-array-accepted", "UE-BODY-02")
class ObjectArrayAccepted(ReferenceServer):
    """Accepts an array where an object is due (and stores it)."""

    def validate(self, body, d):
        lists = {n: {} for n in d.of_type("object") if isinstance(body.get(n), list)}
        super().validate({**body, **lists}, d)


@mutant("string-number-accepted", "UE-BODY-02")
class StringNumberAccepted(ReferenceServer):
    """Accepts a number where a string is due (and stores it)."""

    def validate(self, body, d):
        numbers = {
            n: str(body[n])
            for n in d.of_type("string")
            if isinstance(body.get(n), int | float) and not isinstance(body.get(n), bool)
        }
        super().validate({**body, **numbers}, d)


# -- valid bodies rejected --------------------------------------------------------------------------
@mutant("unicode-string-rejected", "UE-BODY-01", "UE-BODY-08")
class UnicodeStringRejected(ReferenceServer):
    """Rejects a string field with non-ASCII characters."""

    def validate(self, body, d):
        super().validate(body, d)
        if any(isinstance(body.get(n), str) and not body[n].isascii() for n in d.of_type("string")):
            raise _bad(self, d, "must be ASCII")


@mutant("nested-object-rejected", "UE-BODY-01", "UE-BODY-08")
class NestedObjectRejected(ReferenceServer):
    """Rejects an object field whose values are objects or arrays (flat objects only)."""

    def validate(self, body, d):
        super().validate(body, d)
        for name in d.of_type("object"):
            if any(isinstance(v, dict | list) for v in body.get(name, {}).values()):
                raise _bad(self, d, f"{name} must be flat")


@mutant("false-rejected", "UE-BODY-01", "UE-BODY-08")
class FalseRejected(ReferenceServer):
    """Rejects a boolean field set to false (only true is taken as a valid flag)."""

    def validate(self, body, d):
        super().validate(body, d)
        if any(body.get(n) is False for n in d.of_type("boolean")):
            raise _bad(self, d, "must be true")


@mutant("extra-properties-rejected", "UE-BODY-01", "UE-BODY-08")
class ExtraPropertiesRejected(ReferenceServer):
    """Rejects properties the schema does not name (it allows them)."""

    def validate(self, body, d):
        super().validate(body, d)
        if set(body) - set(d.types):
            raise _bad(self, d, "unknown property")


# -- malformed bodies accepted ----------------------------------------------------------------------
@mutant("non-object-accepted", "UE-BODY-03")
class NonObjectAccepted(ReferenceServer):
    """Answers a JSON body that is not an object with 200, as an update of nothing."""

    def parse_body(self, raw, d):
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return super().parse_body(raw, d)
        return value if isinstance(value, dict) else {_first(d, "string"): "non-object"}


@mutant("malformed-accepted", "UE-BODY-04")
class MalformedAccepted(ReferenceServer):
    """Answers a body that is not JSON (or not UTF-8) with 200, as an update of nothing."""

    def parse_body(self, raw, d):
        try:
            json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            if raw:
                return {_first(d, "string"): "malformed"}
        return super().parse_body(raw, d)


@mutant("missing-body-accepted", "UE-BODY-05")
class MissingBodyAccepted(ReferenceServer):
    """Answers a request without a body with 200, as an update of nothing."""

    def parse_body(self, raw, d):
        return super().parse_body(raw, d) if raw else {_first(d, "string"): "no body"}


# -- crashes on unusual input -----------------------------------------------------------------------
def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


@mutant("deep-object-crash", "UE-RESP-02")
class DeepObjectCrash(ReferenceServer):
    """Crashes (500) on an object field nested more than three levels deep."""

    def validate(self, body, d):
        if any(depth(body.get(n)) > 3 for n in d.of_type("object")):
            raise RecursionError("too deep for the store")
        super().validate(body, d)


@mutant("non-utf8-crash", "UE-RESP-02", "UE-BODY-04")
class NonUtf8Crash(ReferenceServer):
    """Crashes (500) on a body that is not UTF-8: decodes before the guarded parse."""

    def parse_body(self, raw, d):
        raw.decode("utf-8")
        return super().parse_body(raw, d)


@mutant("empty-body-crash", "UE-RESP-02", "UE-BODY-05")
class EmptyBodyCrash(ReferenceServer):
    """Crashes (500) on a request without a body."""

    def parse_body(self, raw, d):
        if not raw:
            raise RuntimeError("no body to parse")
        return super().parse_body(raw, d)


@mutant("over-limit-crash", "UE-RESP-02", "UE-BODY-06")
class OverLimitCrash(ReferenceServer):
    """Crashes (500) on a string past its documented limit instead of answering 200 or 400."""

    def validate(self, body, d):
        for name, limit in d.limits.items():
            if limit.max_chars and isinstance(body.get(name), str) and limit.exceeded_by(body[name]):
                raise OverflowError(f"{name} does not fit the column")
        super().validate(body, d)
