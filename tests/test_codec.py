"""The one request codec: what the transport encodes, the proxy and the hooks decode back to the same symbolic
request (`decode(encode(r)) == canonical(r)`), for every request the coverage table and the public strategies
build, under both versions; a key the codec cannot name is a placeholder, never its text."""

from __future__ import annotations

import string
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fpjs_conformance import codec, strategies, table_run
from fpjs_conformance import profile as profiles
from fpjs_conformance.keys import Secrets
from fpjs_conformance.model import NEAR_MISSES, READ, UPDATE, Body, Events, Request

VERSIONS = profiles.versions()
EVENTS = Events("1708102555327.NLOjmg", expired="1608102555327.EXPIRD", foreign="1708102555327.FOREGN")


def keys() -> st.SearchStrategy[str]:
    """API keys as a workspace may have them; each near miss of one spells no other symbolic key."""

    def distinct(key: str) -> bool:
        misses = [m(key, "")[0] for m in NEAR_MISSES.values()]
        return len(set(misses)) == len(misses) and key not in misses and key.swapcase() != key

    alphabet = string.ascii_letters + string.digits
    return st.text(alphabet, min_size=12, max_size=40).map(lambda t: "k" + t).filter(distinct)


def codec_for(version: str, api_key: str, request: Request) -> codec.Codec:
    """The codec as the suite sends with it, naming back the literal keys it itself sent (never secret)."""
    literals = {c.key.variant for c in request.credentials.items if c.key.kind == "literal"}
    secrets = Secrets(api_key, wrong_region_api_key="eu" + api_key[::-1], foreign_api_key="fw" + api_key[1:])
    return codec.Codec(
        profiles.load(version), secrets, "http://127.0.0.1:9" + profiles.load(version).server_path, literals=literals
    )


def round_trip(c: codec.Codec, request: Request) -> codec.Decoded:
    built = c.encode(request)
    url = urlsplit(built.url)
    decoded = c.decode(built.method, url.path, url.query, list(built.headers.items()), built.body, strict=False)
    assert decoded is not None, built.url
    return decoded


def carried(request: Request) -> bool:
    """What a request says of the wire itself: not the client's default headers (`headers_as`, the client's),
    nor a path text that would be a query."""
    return not request.headers_as and "?" not in request.event_id and "#" not in request.event_id


@pytest.mark.parametrize("version", VERSIONS)
def test_every_table_request_comes_back_as_itself(version):
    profile = profiles.load(version)
    api_key = "k" + "Q7x2Lm9Pz4Rt8Vw1" * 2
    requests = [r for case in table_run.cases(profile, EVENTS, wrong_region=True) for r in case.requests]
    checked = 0
    for request in requests:
        if not carried(request):
            continue
        c = codec_for(version, api_key, request)
        assert round_trip(c, request).request == c.canonical(request), request
        checked += 1
    assert checked > 100


def requests(version: str) -> st.SearchStrategy[Request]:
    p = profiles.load(version)
    credentials = strategies.valid_credentials(p) | strategies.bad_credentials(p, wrong_region=True)
    bodies = (
        strategies.valid_bodies(p)
        | strategies.empty_update_bodies(p)
        | strategies.wrong_type_bodies(p)
        | strategies.non_object_bodies()
        | strategies.malformed_bodies(p)
        | st.just(Body())
    )
    ids = st.just(EVENTS.live) | strategies.unknown_event_ids(p) | strategies.odd_event_ids(p)
    media = st.sampled_from(["application/json", None, "text/plain", "application/json; charset=utf-8"])
    return st.builds(
        Request,
        event_id=ids,
        credentials=credentials,
        body=bodies,
        op=st.sampled_from([UPDATE, READ]),
        content_type=media,
        extra_query=st.sampled_from([(), tuple(p.sdk_query.items())]),
        extra_headers=st.sampled_from([(), tuple(p.sdk_headers.items())]),
    )


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_strategy_request_comes_back_as_itself(version, data):
    api_key = data.draw(keys(), label="api key")
    request = data.draw(requests(version), label="request")
    assume(carried(request))
    c = codec_for(version, api_key, request)
    assert round_trip(c, request).request == c.canonical(request)


@pytest.mark.parametrize("version", VERSIONS)
@given(api_key=keys(), other=st.text(string.ascii_letters + string.digits + "-_.", min_size=4, max_size=40))
@settings(max_examples=60, deadline=None)
def test_a_key_it_cannot_name_is_a_placeholder_never_its_text(version, api_key, other):
    """Proxy and hooks alike: an unknown key is `WRONG_KEY` with the API key known, `UNCHECKED_KEY` without;
    its text is in no part of the request nor its record, only among the texts to scrub where data leaves."""
    profile = profiles.load(version)
    assume(Secrets(api_key).name(other) is None)
    place = profile.key_places[0]
    value = f"{place.scheme} {other}" if place.scheme else other
    headers = [(place.field, value)] if place.location == "header" else []
    query = "" if headers else f"{place.field}={other}"
    path = profile.server_path + profile.path_for(profile.update_path, EVENTS.live)
    for known, placeholder in ((api_key, codec.WRONG_KEY), ("", codec.UNCHECKED_KEY)):
        c = codec.Codec(profile, Secrets(known), "http://127.0.0.1:9" + profile.server_path)
        decoded = c.decode(profile.update_method, path, query, headers, b"{}")
        assert decoded is not None
        assert [cr.key for cr in decoded.request.credentials.items] == [placeholder]
        shown = _shown(decoded)
        # a text the record holds anyway ("Fals" of `False`) says nothing: judged only when a key of
        # another text leaves it out too
        stand_in = [(n, v.replace(other, "#" * len(other))) for n, v in headers]
        without = c.decode(profile.update_method, path, query.replace(other, "#" * len(other)), stand_in, b"{}")
        if other not in _shown(without):
            assert other not in shown
        assert other in decoded.secrets


def _shown(decoded) -> str:
    """Everything of a decoded request that a record or a line may show."""
    request = decoded.request
    return repr(request) + repr(request.to_record()) + decoded.shown_url + str(decoded.shown_headers)
