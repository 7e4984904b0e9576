"""Where the suite connects: a base URL's parts (loopback or not, the `user:password` it carries) and the
TLS trust. Options validate with these and the transport connects with them: neither owns the other."""

from __future__ import annotations

import ipaddress
import ssl
from urllib.parse import urlsplit, urlunsplit


def is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system trust store, or the given CA bundle (httpx alone would use certifi's store)."""
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()


def split_userinfo(base_url: str) -> tuple[str, str | None]:
    """(the URL without `user:password@`, the userinfo or None)."""
    parts = urlsplit(base_url)
    if "@" not in parts.netloc:
        return base_url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=host)), userinfo
