"""The scrubber, as properties: whatever form a secret takes on its way out (as it is, percent-encoded,
JSON-escaped, the base64 of a userinfo pair), no form of it survives `redact.scrub`; and a secret that is
scrubbed where data leaves never bends what the suite judges."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, quote_plus, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from fpjs_conformance import redact
from fpjs_conformance.model import Exchange, Request

# What a key may be (options.KEY_SHAPE): printable ASCII without spaces; the characters that encoders
# change are drawn often.
KEY_CHARS = st.sampled_from([chr(c) for c in range(0x21, 0x7F)])
KEYS = st.text(st.one_of(KEY_CHARS, st.sampled_from('+/=%&:\\"<>')), min_size=redact.MIN_SECRET, max_size=64)
NOISE = st.text(st.characters(codec="utf-8"), max_size=40)


def ways_out(secret: str) -> list[str]:
    """How the secret reaches a file or a stream: as encoders on the way out write it."""
    escaped = json.dumps(secret)[1:-1]
    return [
        secret,
        quote(secret, safe=""),
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(secret, safe="")),
        quote_plus(secret),
        urlencode({"api_key": secret}).split("=", 1)[1],
        str(httpx_url(secret)),
        escaped,
        escaped.replace("/", "\\/"),
        json.dumps({"k": secret}, ensure_ascii=True)[7:-2],
    ]


def httpx_url(secret: str) -> str:
    import httpx

    return httpx.URL("http://127.0.0.1/x", params={"api_key": secret}).query.decode().split("=", 1)[1]


@settings(deadline=None)  # the first example of a key compiles its patterns
@given(KEYS, NOISE, NOISE)
def test_no_form_of_a_key_survives_the_scrubber(key, before, after):
    for form in ways_out(key):
        text = f"{before}{form}{after}"
        cleaned = redact.scrub(text, [key])
        assert form not in cleaned or form in before + after, (form, cleaned)


@settings(deadline=None)  # the first example of a key compiles its patterns
@given(KEYS, KEYS)
def test_no_userinfo_pair_survives_as_a_basic_credential(user, password):
    pair = f"{user}:{password}"
    basic = base64.b64encode(pair.encode()).decode()
    cleaned = redact.scrub(f"Authorization: Basic {basic}", [pair, password])
    assert basic not in cleaned
    assert password not in cleaned


@settings(deadline=None)  # the first example of a key compiles its patterns
@given(KEYS, st.binary(max_size=40), st.binary(max_size=40))
def test_an_excerpt_is_cut_from_the_scrubbed_copy(key, before, after):
    """Cutting first would keep part of an echoed key: the excerpt shows none of it, wherever it falls."""
    body = before + key.encode() + after
    ex = Exchange(Request("e"), "PUT", "http://x/e", {}, status=403, body=body)
    ex.shown_body = redact.scrub_bytes(body, [key])
    assert ex.body == body  # judged as it came
    around = (before + after).decode("utf-8", "backslashreplace")
    for limit in range(1, len(body) + 2):
        excerpt = ex.body_excerpt(limit)
        assert key not in excerpt or key in around, excerpt
