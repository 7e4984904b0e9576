"""Body mutants: wrong types accepted, valid bodies rejected, malformed bodies accepted, crashes (500)
on unusual input."""

import json

from refserver import ReferenceServer
from refserver.app import LINKED_ID_LIMIT, UPDATABLE
from tests.variants import mutant


def _bad(server: ReferenceServer, why: str):
    return server.error(400, "RequestCannotBeParsed", why)


# -- wrong types accepted ---------------------------------------------------------------------------
@mutant("null-accepted", "UE-BODY-02")
class NullAccepted(ReferenceServer):
    """Accepts null for a field (treated as absent)."""

    def validate(self, body):
        super().validate({k: v for k, v in body.items() if v is not None} or {"linkedId": ""})


@mutant("suspect-string-accepted", "UE-BODY-02")
class SuspectStringAccepted(ReferenceServer):
    """Coerces suspect "true"/"false" strings to booleans instead of rejecting them."""

    def validate(self, body):
        value = body.get("suspect")
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            body["suspect"] = value.strip().lower() == "true"
        super().validate(body)


@mutant("suspect-int-accepted", "UE-BODY-02")
class SuspectIntAccepted(ReferenceServer):
    """Coerces suspect 0/1 to booleans instead of rejecting them."""

    def validate(self, body):
        if type(body.get("suspect")) is int and body["suspect"] in (0, 1):
            body["suspect"] = bool(body["suspect"])
        super().validate(body)


@mutant("tag-array-accepted", "UE-BODY-02")
class TagArrayAccepted(ReferenceServer):
    """Accepts an array as tag (and stores it)."""

    def validate(self, body):
        super().validate({**body, "tag": {}} if isinstance(body.get("tag"), list) else body)


@mutant("linkedid-number-accepted", "UE-BODY-02")
class LinkedIdNumberAccepted(ReferenceServer):
    """Accepts a number as linkedId (and stores it)."""

    def validate(self, body):
        value = body.get("linkedId")
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        super().validate({**body, "linkedId": str(value)} if numeric else body)


# -- valid bodies rejected --------------------------------------------------------------------------
@mutant("unicode-linkedid-rejected", "UE-BODY-01", "UE-BODY-08")
class UnicodeLinkedIdRejected(ReferenceServer):
    """Rejects a linkedId with non-ASCII characters."""

    def validate(self, body):
        super().validate(body)
        if "linkedId" in body and not body["linkedId"].isascii():
            raise _bad(self, "linkedId must be ASCII")


@mutant("nested-tag-rejected", "UE-BODY-01", "UE-BODY-08")
class NestedTagRejected(ReferenceServer):
    """Rejects a tag whose values are objects or arrays (flat tags only)."""

    def validate(self, body):
        super().validate(body)
        if any(isinstance(v, dict | list) for v in body.get("tag", {}).values()):
            raise _bad(self, "tag must be flat")


@mutant("suspect-false-rejected", "UE-BODY-01", "UE-BODY-08")
class SuspectFalseRejected(ReferenceServer):
    """Rejects suspect=false (only true is taken as a valid flag)."""

    def validate(self, body):
        super().validate(body)
        if body.get("suspect") is False:
            raise _bad(self, "suspect must be true")


@mutant("extra-properties-rejected", "UE-BODY-01", "UE-BODY-08")
class ExtraPropertiesRejected(ReferenceServer):
    """Rejects properties other than linkedId, tag and suspect (the schema allows them)."""

    def validate(self, body):
        super().validate(body)
        if set(body) - set(UPDATABLE):
            raise _bad(self, "unknown property")


# -- malformed bodies accepted ----------------------------------------------------------------------
@mutant("non-object-accepted", "UE-BODY-03")
class NonObjectAccepted(ReferenceServer):
    """Answers a JSON body that is not an object with 200, as an update of nothing."""

    def parse_body(self, raw):
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return super().parse_body(raw)
        return super().parse_body(raw) if isinstance(value, dict) else {}


@mutant("malformed-accepted", "UE-BODY-04")
class MalformedAccepted(ReferenceServer):
    """Answers a body that is not JSON (or not UTF-8) with 200, as an update of nothing."""

    def parse_body(self, raw):
        try:
            json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return {} if raw else super().parse_body(raw)
        return super().parse_body(raw)


@mutant("missing-body-accepted", "UE-BODY-05")
class MissingBodyAccepted(ReferenceServer):
    """Answers a request without a body with 200, as an update of nothing."""

    def parse_body(self, raw):
        return super().parse_body(raw) if raw else {}


# -- crashes on unusual input -----------------------------------------------------------------------
def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@mutant("deep-tag-crash", "UE-RESP-02")
class DeepTagCrash(ReferenceServer):
    """Crashes (500) on a tag nested more than three levels deep."""

    def validate(self, body):
        if _depth(body.get("tag")) > 3:
            raise RecursionError("tag too deep for the store")
        super().validate(body)


@mutant("non-utf8-crash", "UE-RESP-02", "UE-BODY-04")
class NonUtf8Crash(ReferenceServer):
    """Crashes (500) on a body that is not UTF-8: decodes before the guarded parse."""

    def parse_body(self, raw):
        raw.decode("utf-8")
        return super().parse_body(raw)


@mutant("empty-body-crash", "UE-RESP-02", "UE-BODY-05")
class EmptyBodyCrash(ReferenceServer):
    """Crashes (500) on a request without a body."""

    def parse_body(self, raw):
        if not raw:
            raise RuntimeError("no body to parse")
        return super().parse_body(raw)


@mutant("over-limit-crash", "UE-RESP-02", "UE-BODY-06")
class OverLimitCrash(ReferenceServer):
    """Crashes (500) on a linkedId over the 256-character limit instead of answering 200 or 400."""

    def validate(self, body):
        linked = body.get("linkedId")
        if isinstance(linked, str) and len(linked) > LINKED_ID_LIMIT:
            raise OverflowError("linkedId does not fit the column")
        super().validate(body)
