"""Auth: every key place, the answers to missing, empty, wrong and other-region keys, schemes, header
names, retired places, and authentication before anything else.

`assess` says how a request's credentials stand (refused, and as which role; accepted, and which
clauses say so; or left open); the coverage table sends every situation in every place, the valid
key under near misses of each place's name and after near misses of its scheme word too, and rides
the header shapes of real clients on refusals and acceptances alike (`Table.shaped`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from hypothesis import strategies as st

from fpjs_conformance import strategies, variety
from fpjs_conformance.checks import Expectation
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
from fpjs_conformance.profile import Profile
from fpjs_conformance.registry import cases, clause, explores
from fpjs_conformance.rules.left_open import KEYS_DIFFER
from fpjs_conformance.table import CANONICAL, UNKNOWN_LIVE_SHAPE, Case, Table

NO_KEY_REFUSED = clause("UE-AUTH-01")
EMPTY_KEY_REFUSED = clause("UE-AUTH-02")
WRONG_KEY_REFUSED = clause("UE-AUTH-03")
HEADER_KEY_WORKS = clause("UE-AUTH-04")
QUERY_KEY_WORKS = clause("UE-AUTH-05")
OTHER_REGION_REFUSED = clause("UE-AUTH-06", needs=("wrong_region_key",))
AUTH_FIRST = clause("UE-AUTH-07")
SCHEME_CASE = clause("UE-AUTH-08")
UNREADABLE_KEY_REFUSED = clause("UE-AUTH-09")
RETIRED_PLACE_REFUSED = clause("UE-AUTH-10")
HEADER_NAME_CASE = clause("UE-HTTP-01")

UNRELATED_KEY = Key("literal", "fpjsNotAKey0123456789")
ODD_ID = "a/b"  # an odd id, for a refusal that must come before the id is looked at


def _answers(profile: Profile, *roles: str) -> dict[int, frozenset[str] | None]:
    """The answers of several roles together (their codes merged per status)."""
    out: dict[int, frozenset[str] | None] = {}
    for name in roles:
        for status, codes in profile.role(name).answers.items():
            have = out.get(status, frozenset())
            out[status] = None if codes is None or have is None else have | codes
    return out


def _well_formed(profile: Profile, cred: Credential) -> bool:
    """The key is spelled so that the place accepts it: its documented scheme, in any letter case."""
    scheme = profile.place(cred.place).scheme
    if cred.key.kind == "empty" and cred.scheme:
        return False  # the scheme word alone
    if scheme is not None and cred.scheme is not None and (not cred.separator or cred.separator.strip(" ")):
        return False  # the scheme glued to the key, or another separator (RFC 9110, 11.4: 1*SP)
    if scheme is None or cred.scheme == "":
        return True
    return cred.scheme is not None and cred.scheme.lower() == scheme.lower()


def placed(profile: Profile, cred: Credential) -> Credential | None:
    """The credential in the place its name puts it: a name other than the place's field (exactly, for a
    query parameter; ignoring case, for a header: RFC 9110, 5.1) is the field of another place of the
    same kind, or no place at all (None: the key is no key)."""
    if not cred.name:
        return cred
    place = profile.place(cred.place)
    for other in (place, *profile.key_places, *profile.retired_places):
        if other.location != place.location:
            continue
        if cred.name == other.field:
            return replace(cred, place=other.name, name="")
        if other.location == "header" and cred.name.lower() == other.field.lower():
            return replace(cred, place=other.name, name="", name_case=cred.name_case or "other")
    return None


def _key_clause(profile: Profile, cred: Credential) -> str:
    """The clause a valid key in this place, so spelled, informs."""
    if cred.name_case:
        return HEADER_NAME_CASE
    if cred.scheme:
        return SCHEME_CASE
    return QUERY_KEY_WORKS if profile.place(cred.place).location == "query" else HEADER_KEY_WORKS


@dataclass(frozen=True)
class Auth:
    """How the credentials of a request stand."""

    refusal: Expectation | None = None  # the key is not valid: the answer must be this refusal
    accepted: tuple[Expectation, ...] = ()  # the key is valid: these clauses say it must not be refused
    ambiguous: str | None = None  # the left-open clause when places carry different keys
    ambiguous_answers: dict[int, frozenset[str] | None] | None = None
    retired_valid: bool = False  # the valid key also sits in a retired place


def assess(profile: Profile, request: Request) -> Auth:
    declared = {p.name for p in profile.key_places}
    where = [c for c in (placed(profile, c) for c in request.credentials.items) if c is not None]
    items = [c for c in where if c.place in declared]
    retired = [c for c in where if c.place not in declared]
    retired_valid = any(c.key.kind == "valid" for c in retired)
    rate_limited = profile.role("rate_limited").statuses

    def refusal(clause_id: str, answers: dict, why: str) -> Auth:
        return Auth(
            refusal=Expectation(clause_id, why, allowed=answers, defer=rate_limited), retired_valid=retired_valid
        )

    if not items:
        if any(c.key.kind != "empty" for c in retired):
            return refusal(
                RETIRED_PLACE_REFUSED, _answers(profile, "retired_key_place"), "a key only in a retired place"
            )
        return refusal(NO_KEY_REFUSED, _answers(profile, "missing_key"), "no key")
    given = [c for c in items if c.key.kind != "empty" or c.scheme]
    if not given:
        return refusal(EMPTY_KEY_REFUSED, _answers(profile, "missing_key"), "only empty keys")
    valid = [c for c in given if c.key.kind == "valid" and _well_formed(profile, c)]
    malformed = [c for c in given if not _well_formed(profile, c)]
    if valid and len(valid) == len(items):
        accepted = tuple(
            Expectation(
                _key_clause(profile, c), "the valid key", forbidden=profile.refusal_statuses, defer=rate_limited
            )
            for c in valid
        )
        return Auth(accepted=tuple(dict.fromkeys(accepted)), retired_valid=retired_valid)
    others = ["wrong_region" if c.key.kind == "wrong_region" else "wrong_key" for c in given]
    if valid:
        answers = _answers(profile, *others, "missing_key", "wrong_key", "unreadable_key")
        return Auth(ambiguous=KEYS_DIFFER, ambiguous_answers=answers, retired_valid=retired_valid)
    if malformed and len(malformed) == len(given):
        scheme = profile.place(malformed[0].place).scheme
        return refusal(
            UNREADABLE_KEY_REFUSED, _answers(profile, "unreadable_key"), f"a key without the {scheme} scheme"
        )
    roles = [*others, *(["missing_key"] if len(given) < len(items) or malformed else [])]
    clause_id = OTHER_REGION_REFUSED if all(c.key.kind == "wrong_region" for c in given) else WRONG_KEY_REFUSED
    return refusal(clause_id, _answers(profile, *roles), "a wrong key")


def first(refusal: Expectation) -> Expectation:
    """A request that is wrong in other ways too is refused for its credentials first."""
    return Expectation(AUTH_FIRST, "credentials are checked first", allowed=refusal.allowed)


def retired_too(refusal: Expectation) -> Expectation:
    return Expectation(RETIRED_PLACE_REFUSED, "a retired place never authenticates", allowed=refusal.allowed)


# -- the coverage table ------------------------------------------------------------------------------
@cases
def key_situations(t: Table) -> Iterator[Case]:
    p, c = t.p, t.case

    def refused(creds: Credentials) -> object:  # a refusal, sent as the next real client would
        return t.update(creds=creds, **t.shaped("refusal"))

    def accepted(creds: Credentials) -> object:
        return t.update(creds=creds, **t.shaped("accepted"))

    yield c("auth/no-key", NO_KEY_REFUSED, t.update(creds=NO_KEY))
    for place in p.key_places:
        at = place.name

        def one(key: Key, at: str = at, **spelling) -> Credentials:
            return Credentials((Credential(at, key, **spelling),))

        yield c(f"auth/{at}/empty", EMPTY_KEY_REFUSED, refused(one(EMPTY)))
        for variant in NEAR_MISSES:
            yield c(f"auth/{at}/near:{variant}", WRONG_KEY_REFUSED, refused(one(Key("near", variant))))
        yield c(f"auth/{at}/unrelated", WRONG_KEY_REFUSED, refused(one(UNRELATED_KEY)))
        if t.wrong_region:
            yield c(f"auth/{at}/wrong-region", OTHER_REGION_REFUSED, refused(one(WRONG_REGION)))
        valid_clause = QUERY_KEY_WORKS if place.location == "query" else HEADER_KEY_WORKS
        yield c(f"auth/{at}/valid", valid_clause, accepted(one(VALID)))
        # The key with white space around it: a query value keeps it (another key); a header value's own
        # is taken away by HTTP (RFC 9110, 5.5: h11 will not even send it), so there the white space that
        # can go is between the scheme and the key (1*SP, RFC 9110, 11.4).
        if place.location == "query":
            yield c(f"auth/{at}/padded", WRONG_KEY_REFUSED, refused(one(Key("padded", " \t"))))
        elif place.scheme:
            yield c(f"auth/{at}/separator:spaces", HEADER_KEY_WORKS, accepted(one(VALID, separator="   ")))
        # The valid key under every near miss of the place's name at once: no key in any place.
        misses = variety.near_misses(place.field, place.location)
        if misses:
            creds = Credentials(tuple(Credential(at, VALID, name=name) for name in misses))
            yield c(f"auth/{at}/name:near-misses", NO_KEY_REFUSED, refused(creds))
        if place.location == "header":
            for case in ("lower", "upper"):
                yield c(f"auth/{at}/name:{case}", HEADER_NAME_CASE, accepted(one(VALID, name_case=case)))
        if place.scheme:
            for word in (place.scheme.lower(), place.scheme.upper()):
                yield c(f"auth/{at}/scheme:{word}", SCHEME_CASE, accepted(one(VALID, scheme=word)))
            yield c(f"auth/{at}/scheme:none", UNREADABLE_KEY_REFUSED, refused(one(VALID, scheme=None)))
            for other in ("Basic", "Token", *variety.near_misses(place.scheme, "scheme")):
                yield c(f"auth/{at}/scheme:{other}", UNREADABLE_KEY_REFUSED, refused(one(VALID, scheme=other)))
            for name, sep in (("glued", ""), ("colon", ":")):
                yield c(f"auth/{at}/separator:{name}", UNREADABLE_KEY_REFUSED, refused(one(VALID, separator=sep)))
            yield c(f"auth/{at}/scheme:only", UNREADABLE_KEY_REFUSED, refused(one(EMPTY, scheme=place.scheme)))
    if len(p.key_places) > 1:
        empties = Credentials(tuple(Credential(pl.name, EMPTY) for pl in p.key_places))
        yield c("auth/all-empty", EMPTY_KEY_REFUSED, refused(empties))
    for place in p.retired_places:
        yield c(f"auth/{place.name}/valid", RETIRED_PLACE_REFUSED, refused(Credentials.of(**{place.name: VALID})))


@cases
def auth_comes_first(t: Table) -> Iterator[Case]:
    p, c = t.p, t.case
    near = Credentials.of(**{t.places[0]: Key("near", "drop-last")})
    empty = Credentials.of(**{t.places[-1]: EMPTY})
    field, kind = next(iter(p.field_types.items()))
    wrong_type = {**t.marks(but=(field,)), field: CANONICAL["null" if kind != "null" else "string"]}
    yield c("auth-first/no-key+malformed", AUTH_FIRST, t.update(Body.bytes_(b"{"), creds=NO_KEY))
    yield c("auth-first/no-key+no-body", AUTH_FIRST, t.update(NO_BODY, creds=NO_KEY))
    yield c("auth-first/no-key+unknown-id", AUTH_FIRST, t.update(creds=NO_KEY, event_id=UNKNOWN_LIVE_SHAPE))
    yield c("auth-first/near-key+wrong-type", AUTH_FIRST, t.update(wrong_type, creds=near))
    yield c("auth-first/empty-key+odd-id", AUTH_FIRST, t.update(creds=empty, event_id=ODD_ID))


# -- random examples ---------------------------------------------------------------------------------
@explores(WRONG_KEY_REFUSED)
def random_wrong_keys(t: Table):
    places = st.sampled_from([p.name for p in t.p.key_places])
    keys = strategies.near_miss_keys() | strategies.unrelated_keys()
    wrong = st.builds(lambda place, key: Credentials((Credential(place, key),)), places, keys)
    return t.updates(st.none(), wrong)


@explores(AUTH_FIRST)
def random_bad_requests_without_a_key(t: Table):
    p = t.p
    bodies = (
        strategies.valid_bodies(p)
        | strategies.wrong_type_bodies(p)
        | strategies.malformed_bodies(p)
        | strategies.non_object_bodies()
        | strategies.empty_update_bodies(p)
    )
    ids = st.just(t.events.live) | strategies.unknown_event_ids(p) | strategies.odd_event_ids(p)
    return t.updates(bodies, strategies.bad_credentials(p, wrong_region=t.wrong_region), ids)


@explores(HEADER_NAME_CASE, weight=0.5)
def random_spellings(t: Table):
    return t.updates(strategies.valid_bodies(t.p))
