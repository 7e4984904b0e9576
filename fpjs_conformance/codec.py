"""The one request codec: a symbolic `Request` to the wire (method, URL, headers, body bytes) and back.

`Codec.encode` is how the transport sends a request (the real key put in, a shown twin with the replay
variable instead) and how the schemathesis hooks spell credentials; `Codec.decode` is how the proxy and
the hooks read what a client sent. A key text is named (`Secrets.name`: the valid key, the other region's,
another workspace's, a near miss, the key padded, a literal the suite itself sends) or it stands as a
placeholder that says what it is, never its text: a key the suite cannot name may be anyone's secret.
Nothing else is altered on the way in: values under credential-like names are kept as they came and
listed in `Decoded.secrets`, for the scrubber where data leaves (`redact`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import quote, unquote, unquote_plus, urlencode, urlsplit

from fpjs_conformance import redact, shapes, variety
from fpjs_conformance.endpoint import split_userinfo
from fpjs_conformance.keys import USERINFO_VAR, Secrets
from fpjs_conformance.model import (
    DOCUMENTED,
    EMPTY,
    NO_BODY,
    READ,
    UPDATE,
    VALID,
    Body,
    Credential,
    Credentials,
    Key,
    Request,
)
from fpjs_conformance.profile import KeyPlace, Profile

# Keys the codec cannot name: a fixed, non-secret placeholder each (the key's text is never kept).
WRONG_KEY = Key("literal", "fpjs-proxy:not-the-api-key")  # with the API key known: neither it nor a near miss
UNCHECKED_KEY = Key("literal", "fpjs-proxy:key-not-checked")  # the API key unknown: a key that could be any
PLACEHOLDERS = frozenset({WRONG_KEY, UNCHECKED_KEY})
# Names whose values may be credentials: kept as they came, and scrubbed wherever they leave.
SECRET_NAME = re.compile(r"key|token|secret|auth|passw|session|cookie|signature|credential", re.IGNORECASE)

# RFC 9110, 7.6.1: meant for one connection, not forwarded; the upstream gets its own Host.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {"host", "expect"}
FRAMING = frozenset({"content-length"})  # forwarded as the client sent it: the body streams with it
NOT_READ = NOT_FORWARDED | FRAMING  # not part of the request the contract speaks of
# Headers every HTTP client may send, which the contract says nothing about: not modelled as extras.
HTTP_OWN = NOT_READ | frozenset(
    {
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
    }
)


@dataclass
class Built:
    """A request ready for the wire, and its redacted twin for everything that is shown."""

    method: str
    url: str
    headers: dict[str, str]
    shown_url: str
    shown_headers: dict[str, str]
    body: bytes | None
    omit: tuple[str, ...] = ()  # default headers of the client left out of this request


def read_key_header(place: str, scheme: str | None, value: str, name_key) -> tuple[Credential, str, str]:
    """A key header's value as a credential of `place` (its scheme `scheme`, or None), its spelling kept: the
    scheme word as sent, the separator. Returns (credential, what precedes the key as sent, the key's text);
    `name_key(text)` names a key's text (a `Key`)."""
    value = value.strip()  # HTTP takes the white space around a field value away (RFC 9110, 5.5)
    if scheme is None or value == "":
        return Credential(place, name_key(value)), "", value
    word, space, rest = value.partition(" ")
    if space:
        spelled = DOCUMENTED if word == scheme else word
        return Credential(place, name_key(rest), scheme=spelled), f"{word} ", rest
    if value.lower() == scheme.lower():  # the scheme word alone
        return Credential(place, EMPTY, scheme=value), value, ""
    head, tail = value[: len(scheme)], value[len(scheme) :]
    if head.lower() == scheme.lower():
        spelled = DOCUMENTED if head == scheme else head
        if tail.startswith(":"):
            return Credential(place, name_key(tail[1:]), scheme=spelled, separator=":"), f"{head}:", tail[1:]
        if name_key(tail) == VALID:  # the scheme glued to the key
            return Credential(place, VALID, scheme=spelled, separator=""), head, tail
    return Credential(place, name_key(value), scheme=None), "", value


def _name_spelling(sent: str, field: str, seen: bool) -> dict[str, str]:
    """How a key header's name was spelled: as documented, in lower or upper case, or another name (`name`).
    Unseen (ASGI lower-cases names), a name that is the documented one but for case is the documented one."""
    if sent == field or (not seen and sent.lower() == field.lower()):
        return {}
    case = {field.lower(): "lower", field.upper(): "upper"}.get(sent) if seen else None
    return {"name_case": case} if case else {"name": sent}


def _credential_like(name: str, value: str) -> bool:
    """A value to scrub where data leaves: under a credential-like name, and long enough to identify a secret
    (scrubbing `true` or `none` everywhere would garble every report)."""
    return bool(SECRET_NAME.search(name)) and len(value) >= redact.MIN_FRAGMENT


def _clients_own(lower: str) -> bool:
    """A header every HTTP client may send (or a browser's `Sec-`): the client's, not the request's."""
    return lower in HTTP_OWN or lower.startswith("sec-")


def title_case(name: str) -> str:
    """A header name as documents spell them (`content-type` -> `Content-Type`); ASGI hands them lower-cased."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def sent_body(raw: bytes) -> Body:
    """A body as sent: its exact bytes, and the JSON value they are when they are strict JSON (so what reads
    the value, the observed surface, the stored fields, sees it however the client spaced its JSON)."""
    if not raw:
        return NO_BODY
    ok, value = shapes.parse_json(raw)
    return Body(json_value=value, raw=raw) if ok else Body.bytes_(raw)


@dataclass
class Decoded:
    """A request read off the wire in the suite's terms (keys already symbolic), and how it is shown."""

    request: Request
    method: str
    shown_url: str
    shown_headers: dict[str, str]
    # The key texts it carries and the values under credential-like names: scrubbed wherever they leave.
    secrets: list[str] = field(repr=False)
    unchecked: bool = False  # a key the codec cannot check (the API key unknown)
    unidentified: bool = False  # a key that is not the valid key nor a near miss of it
    cut: bool = False  # the body went past the bytes kept: `request.body` is its first bytes

    @property
    def event_id(self) -> str:
        return self.request.event_id


class Codec:
    """One version's requests to and from the wire, for one base URL and one set of keys."""

    def __init__(self, profile: Profile, secrets: Secrets, base_url: str = "", *, literals: Iterable[str] = ()):
        self.profile = profile
        self.secrets = secrets
        self.base_url = base_url.rstrip("/")
        self.shown_base_url = split_userinfo(self.base_url)[0]
        parts = urlsplit(self.shown_base_url)
        self.shown_origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        self.base_path = parts.path
        self.literals = frozenset(literals)  # literal keys named as themselves (the suite's own: not secret)

    # -- to the wire ----------------------------------------------------------------------------------
    def _key_header(self, place: KeyPlace, cred: Credential) -> tuple[str, str, str]:
        """(header name, real value, replay value) for a key in a header place."""
        name = cred.name or place.field
        name = {"lower": name.lower(), "upper": name.upper()}.get(cred.name_case, name)
        real, shown = self.secrets.value(cred.key)
        word = place.scheme if cred.scheme == "" else cred.scheme
        if not word:
            return name, real, shown
        if not real:
            return name, (word if cred.scheme else ""), (word if cred.scheme else "")
        return name, f"{word}{cred.separator}{real}", f"{word}{cred.separator}{shown}"

    def encode(self, request: Request) -> Built:
        """The request as it goes on the wire (the real keys in), and its twin as it is shown."""
        p = self.profile
        read = request.op == READ
        template = p.read_back_path if read else p.update_path
        path = p.path_for(template, request.event_id if request.id_encoded else quote(request.event_id, safe=""))
        query, shown_query = [], []
        headers: dict[str, str] = {}
        shown_headers: dict[str, str] = {}
        for cred in request.credentials.items:
            place = p.place(cred.place)
            if place.location == "query":
                real, shown = self.secrets.value(cred.key)
                name = cred.name or place.field
                query.append((name, real))
                shown_query.append(f"{quote(name, safe='')}={shown}")
            else:
                name, real, shown = self._key_header(place, cred)
                headers[name], shown_headers[name] = real, shown
        for name, value in request.extra_query:
            query.append((name, value))
            shown_query.append(urlencode([(name, value)]))
        for name, value in request.extra_headers:
            headers[name] = shown_headers[name] = value
        if request.content_type and not read:
            headers["Content-Type"] = shown_headers["Content-Type"] = request.content_type
        omit = []
        for name, value in request.headers_as:
            if value is None:
                omit.append(name)
            else:
                headers[name] = shown_headers[name] = value
        url = self.base_url + path + (("?" + urlencode(query)) if query else "")
        shown_url = self.shown_base_url + path + (("?" + "&".join(shown_query)) if shown_query else "")
        method = request.method or (p.read_back_method if read else p.update_method)
        body = None if read else request.body.encode()
        return Built(method, url, headers, shown_url, shown_headers, body, tuple(omit))

    def curl(self, built: Built, timeout: float) -> str:
        """A replay line; `${FPJS_API_KEY}` is expanded by the shell, so it must be exported."""
        parts = ["curl", "-sS", "-i", "--compressed", "--max-time", f"{timeout:g}", "-X", built.method]
        if self.secrets.userinfo:
            parts += ["-u", _dq(f"${{{USERINFO_VAR}}}")]
        parts.append(_dq(built.shown_url))
        for name, value in built.shown_headers.items():
            parts += ["-H", _dq(f"{name}: {value}")]
        for name in built.omit:  # `-H "Name:"` leaves out a header curl would send
            parts += ["-H", _dq(f"{name}:")]
        if built.body is not None:
            parts += ["--data-binary", _shell_bytes(built.body)]
        return " ".join(parts)

    # -- from the wire --------------------------------------------------------------------------------
    def route(self, method: str, path: str, *, strict: bool = True) -> tuple[str, str, str | None] | None:
        """(op, the id's path segment as sent, the method when not the op's own) of a path of the profile's
        operations, or None. `strict`: only the operations' own methods, and a segment without `/`."""
        p = self.profile
        marker = "{" + p.id_param + "}"
        found = None
        operations = ((UPDATE, p.update_path, p.update_method), (READ, p.read_back_path, p.read_back_method))
        for op, template, declared in operations:
            head, _, tail = (self.base_path + template).partition(marker)
            if not path.startswith(head) or not path.endswith(tail) or len(path) < len(head) + len(tail):
                continue
            segment = path[len(head) : len(path) - len(tail)]
            if not segment or (strict and "/" in segment):
                continue
            if method == declared:
                return op, segment, None
            if found is None and op == UPDATE and not strict:
                found = (op, segment, method)
        return found

    def name(self, text: str) -> Key:
        """The symbolic key a key text is: named, else the placeholder that says what it is (never its text)."""
        key = self.secrets.name(text, self.literals)
        if key is not None:
            return key
        return WRONG_KEY if self.secrets.api_key else UNCHECKED_KEY

    def _shown_key(self, key: Key) -> str:
        return key.variant if key in PLACEHOLDERS else self.secrets.value(key)[1]

    def _misnamed(self, name: str, location: str) -> KeyPlace | None:
        """The key place whose name `name` is a near miss of (a key sent under it is in no declared place)."""
        folded = name.lower() if location == "header" else name
        for place in (*self.profile.key_places, *self.profile.retired_places):
            if place.location != location:
                continue
            misses = variety.near_misses(place.field, location)
            if folded in ([m.lower() for m in misses] if location == "header" else misses):
                return place
        return None

    def decode(
        self,
        method: str,
        path: str,
        query: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | Body | None,
        *,
        cut: bool = False,
        names_seen: bool = True,
        strict: bool = True,
    ) -> Decoded | None:
        """A request of the profile's operations as it came (path and query as sent, percent-encoded), or None
        for another. `names_seen`: the header names come in the case they were sent (not ASGI's lower case).
        A body past the bytes kept (`cut`) is read as the prefix that was; a `Body` is taken as it is."""
        routed = self.route(method, path, strict=strict)
        if routed is None:
            return None
        op, segment, other_method = routed
        event_id = unquote(segment)
        id_encoded = quote(event_id, safe="") != segment
        creds: list[Credential] = []  # the query's keys: after the headers' (`canonical`)
        secrets: list[str] = []
        extra_query: list[tuple[str, str]] = []
        shown_query: list[str] = []
        places = self.profile.key_params
        for part in query.split("&") if query else []:
            raw_name, _, raw_value = part.partition("=")
            name, value = unquote_plus(raw_name), unquote_plus(raw_value)
            place = places.get(name)
            if place is None and self._named(value):
                place = self._misnamed(name, "query")  # a key the suite names, under a near miss of a name
            if place is not None:
                key = self.name(value)
                creds.append(Credential(place.name, key, name="" if name == place.field else name))
                secrets.append(value)
                shown_query.append(f"{raw_name}={self._shown_key(key)}")
                continue
            if _credential_like(name, value):
                secrets.append(value)
            extra_query.append((name, value))
            shown_query.append(part)
        content_type: str | None = None
        extra_headers: list[tuple[str, str]] = []
        shown_headers: dict[str, str] = {}
        in_query, creds = creds, []
        for name, value in headers:
            lower = name.lower()
            if lower in NOT_READ:
                continue
            display = name if names_seen else title_case(lower)
            place = self.profile.key_headers.get(lower)
            own = lower in HTTP_OWN or lower == "content-type"
            if place is None and not own and (self._named(value) or self._named(value.strip().partition(" ")[2])):
                place = self._misnamed(lower, "header")  # a key the suite names (after a scheme word or not)
            if place is not None:
                cred, before, text = read_key_header(place.name, place.scheme, value, self.name)
                cred = replace(cred, **_name_spelling(name, place.field, names_seen))
                creds.append(cred)
                secrets.append(text)
                shown = before + self._shown_key(cred.key)
                if not names_seen:
                    display = place.field if place.field.lower() == lower else display
            else:
                shown = value
                if _credential_like(lower, value.strip()):
                    secrets.append(value.strip())
                if lower == "content-type":
                    content_type = value
                elif not _clients_own(lower):
                    extra_headers.append((display, value))
            shown_headers[display] = f"{shown_headers[display]}, {shown}" if display in shown_headers else shown
        creds += in_query
        if op == READ:
            request_body = NO_BODY
        elif isinstance(body, Body):
            request_body = body
        else:
            request_body = Body.bytes_(body or b"") if cut else sent_body(body or b"")
        request = Request(
            event_id if not id_encoded else segment,
            Credentials(tuple(creds)),
            request_body,
            op,
            content_type if op != READ else None,
            tuple(extra_query),
            tuple(extra_headers),
            method=other_method,
            id_encoded=id_encoded,
        )
        shown_url = self.shown_origin + path + (f"?{'&'.join(shown_query)}" if query else "")
        keys = [c.key for c in creds]
        return Decoded(
            request,
            method,
            shown_url,
            shown_headers,
            [s for s in secrets if s],
            unchecked=UNCHECKED_KEY in keys,
            unidentified=WRONG_KEY in keys,
            cut=cut,
        )

    def _named(self, text: str) -> bool:
        """Whether a text is a key of the secrets (not empty, not a literal): sent anywhere, it is a key."""
        key = self.secrets.name(text.strip(), self.literals)
        return key is not None and key != EMPTY and key.kind != "literal"

    def canonical(self, request: Request) -> Request:
        """The request as the wire carries it, what `decode(encode(request))` gives back: a read-back carries
        no body nor media type; keys in headers come before those in the query; an id sent as the suite
        encodes it is the id itself; an empty body is no body; the operation's own method is no other; a header
        every HTTP client may send (`HTTP_OWN`: a User-Agent) is the client's, no extra of the request's."""
        p = self.profile
        query = [c for c in request.credentials.items if p.place(c.place).location == "query"]
        others = [c for c in request.credentials.items if p.place(c.place).location != "query"]
        event_id, encoded = request.event_id, request.id_encoded
        if encoded and quote(unquote(event_id), safe="") == event_id:
            event_id, encoded = unquote(event_id), False
        read = request.op == READ
        own = p.read_back_method if read else p.update_method
        body = request.body
        return replace(
            request,
            event_id=event_id,
            id_encoded=encoded,
            credentials=Credentials(tuple(others + query)),
            body=NO_BODY if read or body.encode() == b"" else body,
            content_type=None if read else request.content_type or None,
            method=None if request.method == own else request.method,
            extra_headers=tuple((k, v) for k, v in request.extra_headers if not _clients_own(k.lower())),
        )


def _dq(text: str) -> str:
    """Double-quote for bash, keeping `${...}` and `$(...)` expansions live."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'


def _shell_bytes(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
        if text.isprintable():
            return shlex.quote(text)
    except UnicodeDecodeError:
        pass
    out = []
    for byte in data:
        ch = chr(byte)
        out.append(ch if 32 <= byte < 127 and ch not in "'\\" else f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"
