"""Client conformance: what a client of the endpoint must send, judged on a request it sent.

The other families judge servers; these clauses judge the other side of the exchange, the request
as a real client (an SDK, an application, curl) sent it: a body valid against the document's
schema, the key only in a place the document declares and spelled as it says, and the JSON media
type declared. The suite's own runs send designed faults on purpose, so nothing here is a universal
check and no coverage case or random example exercises these clauses: the validation proxy
(`fpjs_conformance.proxy`) calls `judge` on every update a client sends through it.

`judge` is pure: the symbolic request of an `Exchange` in (its credentials already symbolic, no
secret), a verdict per clause the request informs out.
"""

from __future__ import annotations

from fpjs_conformance import shapes, variety
from fpjs_conformance.checks import Violation, verdict
from fpjs_conformance.model import READ, Credential, Exchange
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import check, clause

BODY_VALID = clause("UE-CLIENT-01")
KEY_PLACE = clause("UE-CLIENT-02")
MEDIA_TYPE = clause("UE-CLIENT-03")

CLAUSES = (BODY_VALID, KEY_PLACE, MEDIA_TYPE)


@check(BODY_VALID)
def body_valid(ex: Exchange, profile: Profile) -> None:
    """The update body is present, strict JSON over UTF-8, and valid against the operation's schema."""
    body = ex.request.body
    expected = f"a JSON body valid against {profile.body_schema_name}"
    kind = shapes.body_kind(profile, body)
    if kind == shapes.ABSENT:
        raise Violation(BODY_VALID, expected, "no body", ex)
    if kind == shapes.MALFORMED:
        raise Violation(BODY_VALID, expected, f"not JSON text in UTF-8: {body.describe(120)}", ex)
    if kind == shapes.NOT_OBJECT:
        raise Violation(BODY_VALID, expected, f"a JSON value that is not an object: {body.describe(120)}", ex)
    if kind == shapes.WRONG_TYPE:
        _, value = shapes.body_value(body)
        errors = sorted(profile.validator(profile.body_schema_name).iter_errors(value), key=lambda e: list(e.path))
        where, why = "(root)", "invalid"
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or where
            why = errors[0].message[:160]
        raise Violation(BODY_VALID, expected, f"{body.describe(120)} [at {where}: {why}]", ex)


def _spelled_as_documented(profile: Profile, cred: Credential) -> bool:
    """The key as its place says: a header with an auth scheme carries `<scheme> <key>` (the scheme word in
    any letter case, RFC 9110, 11.1; one space, 11.4); a place without a scheme carries the bare key."""
    scheme = profile.place(cred.place).scheme
    if scheme is None:
        return cred.scheme in ("", None) and cred.key.kind != "empty"
    if cred.key.kind == "empty" or cred.scheme is None or cred.separator != " ":
        return False
    return cred.scheme == "" or cred.scheme.lower() == scheme.lower()


@check(KEY_PLACE)
def key_in_declared_place(ex: Exchange, profile: Profile) -> None:
    """A key in a place the document declares, spelled as it says; none in a retired place."""
    declared = {p.name for p in profile.key_places}
    places = " or ".join(p.describe() for p in profile.key_places)
    expected = f"the key only in {places}"
    creds = ex.request.credentials.items
    retired = [c for c in creds if c.place not in declared and (c.key.kind != "empty" or c.scheme)]
    if retired:
        where = ", ".join(f"{profile.place(c.place).describe()} (a retired place)" for c in retired)
        raise Violation(KEY_PLACE, expected, f"a key in {where}", ex)
    given = [c for c in creds if c.place in declared and (c.key.kind != "empty" or c.scheme)]
    if not given:
        raise Violation(KEY_PLACE, expected, ex.request.credentials.describe(), ex)
    unreadable = [c for c in given if not _spelled_as_documented(profile, c)]
    if unreadable:
        place = profile.place(unreadable[0].place)
        raise Violation(
            KEY_PLACE,
            f"{expected}, as `{place.scheme} <key>`",
            ", ".join(c.describe() for c in unreadable),
            ex,
        )


FETCH_LABEL = "text/plain"  # what fetch labels a string body with (the Node SDK sends its JSON so)


@check(MEDIA_TYPE)
def json_media_type(ex: Exchange, profile: Profile) -> None:
    """An update with a body labels it: application/json (any letter case, parameters allowed), or the
    text/plain a fetch-based client sends."""
    content_type = ex.request.content_type
    fetch = content_type is not None and content_type.split(";", 1)[0].strip().lower() == FETCH_LABEL
    if not (variety.json_media(content_type) or fetch):
        received = f"Content-Type {content_type}" if content_type is not None else "no Content-Type"
        raise Violation(MEDIA_TYPE, f"Content-Type application/json (or {FETCH_LABEL})", received, ex)


def judge(ex: Exchange, profile: Profile) -> list[tuple[str, Violation | None]]:
    """Every client clause the request of `ex` informs, and its verdict (a read-back informs none; the
    media type is judged only where there is a body)."""
    request = ex.request
    if request.op == READ:
        return []
    verdicts = [verdict(BODY_VALID, body_valid, ex, profile), verdict(KEY_PLACE, key_in_declared_place, ex, profile)]
    if request.body.present:
        verdicts.append(verdict(MEDIA_TYPE, json_media_type, ex, profile))
    return verdicts
