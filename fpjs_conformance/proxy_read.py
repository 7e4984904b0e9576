"""The proxy's reading of a client's request: the request in the suite's symbolic terms (`Seen`).

Keys become symbolic at once (the valid key `Key("valid")`, a near miss of it `Key("near", ...)`, any
other key a fixed placeholder that describes it, never its text); the request as shown carries
`${FPJS_API_KEY}` or the placeholder; values of headers and query parameters whose names look like
credentials are shown as `[redacted]`. A body past the bytes the proxy keeps is read as the prefix it
kept, marked cut: the clauses that need the whole body do not judge it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from fpjs_conformance import shapes
from fpjs_conformance.model import (
    NO_BODY,
    READ,
    Body,
    Credential,
    Credentials,
    Key,
    Request,
    key_as_sent,
    read_key_header,
)
from fpjs_conformance.profile import KeyPlace, Profile
from fpjs_conformance.proxy_forward import FRAMING, NOT_FORWARDED
from fpjs_conformance.transport import Secrets

# Keys the proxy cannot name: a fixed, non-secret placeholder each (the key's text is never kept).
WRONG_KEY = Key("literal", "fpjs-proxy:not-the-api-key")  # with --api-key: neither the key nor a near miss of it
UNCHECKED_KEY = Key("literal", "fpjs-proxy:key-not-checked")  # without --api-key: a key that could be any
PLACEHOLDERS = frozenset({WRONG_KEY, UNCHECKED_KEY})
REDACTED = "[redacted]"
SECRET_NAME = re.compile(r"key|token|secret|auth|passw|session|cookie|signature|credential", re.IGNORECASE)

NOT_READ = NOT_FORWARDED | FRAMING  # not part of the request the contract speaks of
# Headers every HTTP client may send, which the contract says nothing about: not modelled as extras.
HTTP_OWN = NOT_READ | frozenset(
    [
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "baggage",
        "cache-control",
        "date",
        "dnt",
        "forwarded",
        "origin",
        "pragma",
        "priority",
        "referer",
        "traceparent",
        "tracestate",
        "user-agent",
        "via",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-proto",
        "x-real-ip",
        "x-request-id",
    ]
)


def title_case(name: str) -> str:
    """A header name as documents spell them (`content-type` -> `Content-Type`); ASGI hands them lower-cased."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


@dataclass
class Seen:
    """One client request in the suite's terms, and how it is shown (keys already symbolic)."""

    request: Request
    method: str
    shown_url: str
    shown_headers: dict[str, str]
    secrets: list[str] = field(repr=False)  # the key texts this request carries: scrubbed from its answer
    unchecked: bool = False  # a key the proxy cannot check (no --api-key)
    unidentified: bool = False  # a key that is not the valid key nor a near miss of it
    cut: bool = False  # the body went past the bytes the proxy keeps: `request.body` is its first bytes

    @property
    def event_id(self) -> str:
        return self.request.event_id


class Reader:
    """Turns client requests into symbolic ones: keys named (never kept), places and spellings as sent."""

    def __init__(self, profile: Profile, api_key: str | None, shown_origin: str):
        self.profile = profile
        self.api_key = api_key
        self.shown_origin = shown_origin.rstrip("/")  # scheme://host:port of the upstream: paths come as sent
        self.header_places, self.query_places = profile.key_headers, profile.key_params
        self.shells = Secrets(api_key or "")  # how a named key is shown: as the replay variable

    def symbolic(self, text: str) -> tuple[Key, str]:
        """(the key as the suite names it, how it is shown): never the text of a key the proxy cannot name."""
        key = key_as_sent(text, self.api_key)
        if key is None:
            stand_in = UNCHECKED_KEY if self.api_key is None else WRONG_KEY
            return stand_in, stand_in.variant
        return key, self.shells.value(key)[1]

    def header_credential(self, place: KeyPlace, value: str) -> tuple[Credential, str, str]:
        """(the credential a header value is, its shown value, the key's text), spelled as sent."""
        credential, before, text = read_key_header(place.name, place.scheme, value, lambda t: self.symbolic(t)[0])
        return credential, before + self.symbolic(text)[1], text

    def read(
        self,
        method: str,
        op: str,
        event_id: str,
        raw_path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        cut: bool = False,
    ) -> Seen:
        creds: list[Credential] = []
        secrets: list[str] = []
        extra_query: list[tuple[str, str]] = []
        shown_query: list[str] = []
        for part in query.split("&") if query else []:
            raw_name, _, raw_value = part.partition("=")
            name, value = unquote_plus(raw_name), unquote_plus(raw_value)
            if name in self.query_places:
                key, shown = self.symbolic(value)
                creds.append(Credential(self.query_places[name].name, key))
                secrets.append(value)
                shown_query.append(f"{raw_name}={shown}")
            elif SECRET_NAME.search(name):
                secrets.append(value)
                extra_query.append((name, REDACTED))
                shown_query.append(f"{raw_name}={REDACTED}")
            else:
                extra_query.append((name, value))
                shown_query.append(part)
        content_type: str | None = None
        extra_headers: list[tuple[str, str]] = []
        shown_headers: dict[str, str] = {}
        for name, value in headers:
            lower = name.lower()
            if lower in NOT_READ:
                continue
            display = title_case(lower)
            if lower in self.header_places:
                place = self.header_places[lower]
                cred, shown, text = self.header_credential(place, value)
                creds.append(cred)
                secrets.append(text)
                display = place.field  # as the document spells it: the case it came in is not seen (ASGI)
            elif SECRET_NAME.search(lower):
                secrets.append(value.strip())
                shown = REDACTED
                extra_headers.append((display, REDACTED))
            else:
                shown = value
                if lower == "content-type":
                    content_type = value
                elif lower not in HTTP_OWN and not lower.startswith("sec-"):
                    extra_headers.append((display, value))
            shown_headers[display] = f"{shown_headers[display]}, {shown}" if display in shown_headers else shown
        request = Request(
            event_id,
            Credentials(tuple(creds)),
            NO_BODY if op == READ else (Body.bytes_(body) if cut else sent_body(body)),
            op,
            content_type if op != READ else None,
            tuple(extra_query),
            tuple(extra_headers),
        )
        shown_url = self.shown_origin + raw_path + (f"?{'&'.join(shown_query)}" if query else "")
        keys = [c.key for c in creds]
        return Seen(
            request,
            method,
            shown_url,
            shown_headers,
            [s for s in secrets if s],
            unchecked=UNCHECKED_KEY in keys,
            unidentified=WRONG_KEY in keys,
            cut=cut,
        )


def sent_body(raw: bytes) -> Body:
    """A body as sent: its exact bytes, and the JSON value they are when they are strict JSON (so what reads
    the value, the observed surface, the stored fields, sees it however the client spaced its JSON)."""
    if not raw:
        return NO_BODY
    ok, value = shapes.parse_json(raw)
    return Body(json_value=value, raw=raw) if ok else Body.bytes_(raw)
