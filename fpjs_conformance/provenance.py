"""Whose a journal or a HAR is: the API root it was written against, its designated event, and a
fingerprint of the key it used (never the key).

`--restore-from` and `replay` act on files a user hands them; a journal or HAR of another target,
event or key must never make the suite write somewhere no one designated. Targets are compared by
what they name, not by how a URL is spelled: scheme and host in lower case, the default port left
out, userinfo and a trailing slash dropped, and the path of any version's servers taken off, so a
v3 and a v4 run against one API are one target.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fpjs_conformance import profile as profiles

FINGERPRINT_LABEL = b"fpjs-conformance key fingerprint v1"
DEFAULT_PORTS = {"http": 80, "https": 443}


def key_fingerprint(key: str | None) -> str | None:
    """A fingerprint of a key: a keyed hash (HMAC-SHA-256 over a fixed label), 16 hex digits. It tells two
    keys apart and never gives the key back."""
    if not key:
        return None
    return hmac.new(key.encode("utf-8"), FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def api_root(base_url: str) -> str:
    """The API a base URL names, spelled one way (see the module docstring)."""
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    for version in profiles.versions():
        suffix = profiles.load(version).server_path
        if suffix and path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((scheme, netloc, path, "", ""))


def record(base_url: str, event_id: str, key: str | None) -> dict[str, Any]:
    """The provenance a journal or a HAR carries."""
    return {"api_root": api_root(base_url), "event_id": event_id, "key": key_fingerprint(key)}


def mismatches(recorded: dict[str, Any] | None, base_url: str, event_id: str | None, key: str | None) -> list[str]:
    """How a file's provenance differs from this run's target, designated event and key (empty: it is this
    run's). A file with no provenance matches nothing."""
    if not isinstance(recorded, dict):
        return ["it carries no provenance (written by another tool, or by this suite before 0.4)"]
    mine = record(base_url, event_id or "", key)
    out = []
    if recorded.get("api_root") != mine["api_root"]:
        out.append(f"it was written against {recorded.get('api_root')!r}, this run's target is {mine['api_root']!r}")
    if event_id is not None and recorded.get("event_id") != event_id:
        out.append(f"it names event {recorded.get('event_id')!r}, this run designates {event_id!r}")
    if recorded.get("key") != mine["key"]:
        out.append("it was written with another API key (the key fingerprints differ)")
    return out


def disagreements(journal: dict[str, Any]) -> list[str]:
    """What a journal names besides its provenance that the provenance does not: an event or a target the file
    was altered to name. Such a journal is no one's: `--restore-from` refuses it."""
    recorded = journal.get("provenance") if isinstance(journal.get("provenance"), dict) else {}
    out = []
    if journal.get("event_id") != recorded.get("event_id"):
        out.append(f"it names event {journal.get('event_id')!r}, its provenance {recorded.get('event_id')!r}")
    targets = journal.get("targets") if isinstance(journal.get("targets"), dict) else {}
    for version, url in targets.items():
        if not isinstance(url, str) or api_root(url) != recorded.get("api_root"):
            out.append(f"its {version} target is {url!r}, its provenance {recorded.get('api_root')!r}")
    return out
