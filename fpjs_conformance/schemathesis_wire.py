"""A schemathesis case as the suite's request, and its response as the suite's exchange: the hooks read
what schemathesis sends through the suite's codec (`codec.Codec.decode`), as the proxy reads a client."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlencode, urlsplit

from schemathesis.core import NOT_SET

from fpjs_conformance.codec import Codec
from fpjs_conformance.keys import API_KEY_VAR, Secrets
from fpjs_conformance.model import NO_BODY, Body, Exchange, Request
from fpjs_conformance.profile import Profile
from fpjs_conformance.rules import auth


def _query_text(value: Any) -> str:
    """A query value as schemathesis puts it in the URL (JSON spelling for booleans and null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _is_json(media_type: str | None) -> bool:
    kind = (media_type or "").split(";", 1)[0].strip().lower()
    return kind in ("", "application/json") or kind.endswith("+json")


def _body(case: Any, sent_body: bytes | None = None) -> Body:
    value = case.body
    if value is NOT_SET:
        return NO_BODY
    if isinstance(value, bytes | bytearray):
        return Body.bytes_(bytes(value))
    if _is_json(case.media_type):
        return Body.of(value)
    if sent_body is not None:  # another media type: what schemathesis serialized is what went out
        return Body.bytes_(sent_body)
    if isinstance(value, str):
        return Body.bytes_(value.encode("utf-8"))
    return Body.of(value)


def _items(container: Any) -> list[tuple[str, Any]]:
    return list(container.items()) if container else []


_codecs: dict[tuple[str, str], Codec] = {}


def codec_for(profile: Profile, api_key: str | None) -> Codec:
    """The codec the hooks read cases and spell credentials with: the suite's own literal keys named as
    themselves, any other key the codec cannot name a placeholder (never its text)."""
    key = (profile.version, api_key or "")
    if key not in _codecs:
        _codecs[key] = Codec(profile, Secrets(api_key or ""), literals=(auth.UNRELATED_KEY.variant,))
    return _codecs[key]


def to_request(case: Any, profile: Profile, api_key: str | None, sent: Any = None) -> Request:
    """The suite's symbolic `Request` for a schemathesis case of the update operation, read by the codec.

    The path parameter (percent-encoded by schemathesis) is the event id; a header or query value in a key
    place (declared or retired, or a near miss of one carrying a key the suite names) becomes a credential
    with its scheme, separator and name's spelling (`codec.Codec.decode`); `Content-Type` is the request's
    content type; other headers and query parameters are kept as extras. `sent` (the prepared request,
    optional) gives the query exactly as it went out.
    """
    event_id = unquote(str(case.path_parameters.get(profile.id_param, "")))
    path = profile.path_for(profile.update_path, quote(event_id, safe=""))
    headers = [(str(name), str(value)) for name, value in _items(case.headers)]
    if sent is not None and getattr(sent, "url", None):
        query = urlsplit(str(sent.url)).query
    else:
        query = urlencode(
            [
                (name, _query_text(v))
                for name, value in _items(case.query)
                for v in (value if isinstance(value, list) else [value])
            ]
        )
    sent_body = getattr(sent, "body", None)
    if isinstance(sent_body, str):
        sent_body = sent_body.encode("utf-8")
    request_body = _body(case, sent_body if isinstance(sent_body, bytes) else None)
    if request_body.present and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", case.media_type or "application/json"))
    decoded = codec_for(profile, api_key).decode(profile.update_method, path, query, headers, request_body)
    assert decoded is not None  # the update's own path and method
    return decoded.request


def _shown(text: str, api_key: str | None) -> str:
    """Text with the key as the replay variable, as the suite's transport shows it."""
    if not api_key:
        return text
    for form in dict.fromkeys((api_key, quote(api_key, safe=""), quote_plus(api_key))):
        text = text.replace(form, f"${{{API_KEY_VAR}}}")
    return text


def to_exchange(request: Request, response: Any, profile: Profile, api_key: str | None) -> Exchange:
    """The suite's `Exchange` for a schemathesis response (status, headers lower-cased, body bytes)."""
    sent = getattr(response, "request", None)
    url = _shown(str(getattr(sent, "url", "") or ""), api_key)
    sent_headers = dict(getattr(sent, "headers", None) or {})
    headers = {name: _shown(str(value), api_key) for name, value in sent_headers.items()}
    method = str(getattr(sent, "method", "") or profile.update_method).upper()
    received = {
        name.lower(): ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        for name, value in (response.headers or {}).items()
    }
    return Exchange(
        request,
        method,
        url,
        headers,
        status=response.status_code,
        response_headers=received,
        body=bytes(response.content or b""),
        elapsed=float(getattr(response, "elapsed", 0.0) or 0.0),
        version=profile.version,
    )


def component_mode(case: Any, location: str) -> str | None:
    """How schemathesis generated one part of the case ("positive"/"negative"), when it says."""
    meta = getattr(case, "meta", None)
    for where, info in (getattr(meta, "components", None) or {}).items():
        if str(getattr(where, "value", where)) == location:
            return str(getattr(info.mode, "value", info.mode))
    return None
