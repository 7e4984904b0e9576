"""The cases the schemathesis hooks add to schemathesis's own: the credential situations (the key in every
place and spelling the document declares or retires, none, empty, unrelated), and the suite's coverage
table (`designed_examples`), every run, deterministically. Credentials are spelled as the suite's
codec puts them on the wire (`place_key`); the hooks module (`fpjs_conformance.schemathesis`)
registers them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from requests.structures import CaseInsensitiveDict
from schemathesis.core import NOT_SET

from fpjs_conformance import table_run
from fpjs_conformance.model import (
    ABSENT,
    EMPTY,
    READ,
    VALID,
    WRONG_REGION,
    Credential,
    Credentials,
    Events,
    Key,
    Request,
)
from fpjs_conformance.profile import Profile
from fpjs_conformance.rules import auth
from fpjs_conformance.schemathesis_wire import codec_for


def _items(container: Any) -> list[tuple[str, Any]]:
    return list(container.items()) if container else []


def place_key(case: Any, profile: Profile, api_key: str | None, credentials: Credentials) -> Any:
    """Put `credentials` on the case instead of whatever key places it had (declared and retired)."""
    built = codec_for(profile, api_key).encode(Request("x", credentials, op=READ))
    header_names, query_names = profile.key_headers, profile.key_params
    headers = {k: v for k, v in _items(case.headers) if k.lower() not in header_names}
    headers.update((k, v) for k, v in built.headers.items() if k.lower() in header_names)
    query = {k: v for k, v in _items(case.query) if k not in query_names}
    query.update((k, v) for k, v in parse_qsl(urlsplit(built.url).query, keep_blank_values=True))
    case.headers = CaseInsensitiveDict(headers)
    case.query = query
    # Schemathesis's `ignored_auth` takes credentials it did not set for generated (invalid) ones and
    # fails a 2xx to them: say which credentials are the configured key (as its auth storage does).
    case._has_explicit_auth = not refused(profile, credentials)
    return case


def credential_draws(profile: Profile) -> list[Credentials]:
    """The credential situations besides the key as documented, from the profile (the examples phase
    sends each once, the fuzzing phase draws them): the valid key in every other declared place, its
    header name in lower case, its scheme in lower and upper case and left out, in each retired place;
    no key; an empty and an unrelated key in each declared place; and, with two declared places, the
    valid key in one and an unrelated key in the other."""
    out: list[Credentials] = []

    def one(place: str, key: Key, **spelling: Any) -> None:
        out.append(Credentials((Credential(place, key, **spelling),)))

    for i, place in enumerate(profile.key_places):
        if i:
            one(place.name, VALID)
        if place.location == "header" and place.field.lower() != place.field:
            one(place.name, VALID, name_case="lower")
        if place.scheme:
            for word in dict.fromkeys((place.scheme.lower(), place.scheme.upper())):
                if word != place.scheme:
                    one(place.name, VALID, scheme=word)
            one(place.name, VALID, scheme=None)
    for place in profile.retired_places:
        one(place.name, VALID)
    out.append(Credentials())
    for place in profile.key_places:
        one(place.name, EMPTY)
        one(place.name, auth.UNRELATED_KEY)
    if len(profile.key_places) > 1:
        first, second = profile.key_places[:2]
        out.append(Credentials((Credential(first.name, VALID), Credential(second.name, auth.UNRELATED_KEY))))
    return out


def refused(profile: Profile, credentials: Credentials) -> bool:
    """Whether the suite's auth rule refuses these credentials (`auth.assess`)."""
    return auth.assess(profile, Request("x", credentials)).refusal is not None


_designed_ids: set[str] = set()  # the ids the designed examples send (percent-encoded): kept as they are


def designed_examples(operation: Any, profile: Profile, api_key: str | None, events: Events) -> list[Any]:
    """The suite's coverage table (`coverage.cases`) as schemathesis cases, in order, each request once:
    every update a schemathesis case can carry as the suite sends it (a JSON body or none, the JSON media
    type or none, the key in its places and spellings, extra headers and query parameters, the unknown
    and odd ids the table derives). So every run checks what random generation reaches only sometimes:
    an object merged instead of replaced (the table's replacement sequence, read back under UE-SEM-01),
    an unknown id answered with another role's code (UE-ID-01, UE-RESP-05). Raw bytes, other media
    types, header-spelling variants and another region's key are the suite's own to send."""
    out, seen = [], set()
    for case in table_run.cases(profile, events, wrong_region=False):
        for request in case.requests:
            body = request.body
            if (
                request.op == READ
                or request.headers_as
                or request.method is not None  # another method: a schemathesis case of the update cannot carry it
                or (body.present and (body.raw is not None or body.json_value is ABSENT))
                or request.content_type not in (None, "application/json")
                or (body.present and request.content_type is None)  # a body schemathesis would label
                or any(c.key == WRONG_REGION for c in request.credentials.items)
                or request.fingerprint() in seen
            ):
                continue
            seen.add(request.fingerprint())
            event_id = quote(request.event_id, safe="")
            if request.event_id != events.live:
                _designed_ids.add(event_id)
            headers = dict(request.extra_headers)
            if request.content_type and not body.present:  # a media type without a body: as a header
                headers["Content-Type"] = request.content_type
            example = operation.Case(
                path_parameters={profile.id_param: event_id},
                body=body.json_value if body.present else NOT_SET,
                media_type=request.content_type if body.present else None,
                headers=headers,
                query=dict(request.extra_query),
            )
            out.append(place_key(example, profile, api_key, request.credentials))
    return out


def designed(event_id: Any) -> bool:
    """Whether a case's id (percent-encoded) is one the designed examples send: it stays as it is."""
    return event_id in _designed_ids
