"""One option value each, read and checked: numbers, the base URL and the versions it serves, keys, the CA
bundle, the report folder, the baseline, and a journal handed to `--restore-from` (its provenance). Each bad
value is one `OptionError` line; nothing is sent and nothing is written.
"""

from __future__ import annotations

import math
import os
import re
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from fpjs_conformance import designated, provenance
from fpjs_conformance import profile as profiles
from fpjs_conformance.endpoint import is_loopback, split_userinfo, tls_context
from fpjs_conformance.option_table import OptionError

LIVE_RATE_LIMIT = 5.0  # requests/s: the live API's default limit per key
KEY_SHAPE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what a header or URL can carry as is


def journal_path(option: str | None, invocation_dir: Path) -> Path | None:
    if not option:
        return None
    path = Path(option) if Path(option).is_absolute() else invocation_dir / option
    if not path.is_file():
        raise OptionError(f"--restore-from {str(path)!r} is not a file (a run's reports/restore.json)")
    return path


def check_journal(path: Path, base_urls: dict[str, str] | None, event_id: str | None, api_key: str | None) -> None:
    """A journal handed to --restore-from must be this target's, this event's and this key's (its provenance:
    the API root, the event, the key's fingerprint), or nothing is sent."""
    if base_urls is None:
        raise OptionError(
            "--restore-from needs the target the journal was written against: pass --base-url or --region "
            "(the bundled server starts empty every run); no request was sent"
        )
    journal = designated.read(path)
    if journal is None:
        raise OptionError(f"--restore-from {str(path)!r} is not a journal ({designated.FORMAT}); no request was sent")
    wrong = provenance.mismatches(journal.get("provenance"), next(iter(base_urls.values())), event_id, api_key)
    wrong += provenance.disagreements(journal)
    if wrong:
        raise OptionError(
            f"--restore-from {str(path)!r} is not a journal of this target, event and key: {'; '.join(wrong)}; "
            "no request was sent"
        )


def check_userinfo(userinfo: str | None, versions: tuple[str, ...]) -> None:
    """A `user:password@` in the base URL goes on the wire as `Authorization: Basic`: it cannot work where
    that header carries the key."""
    if userinfo is None:
        return
    for version in versions:
        if any(p.field == profiles.HTTP_AUTH_HEADER for p in profiles.load(version).key_places):
            raise OptionError(
                f"--base-url carries a user:password, which would go as Authorization: Basic, but {version} takes "
                f"the key in the {profiles.HTTP_AUTH_HEADER} header: drop the user:password (a proxy that needs "
                "one cannot front this version); no request was sent"
            )


def check_key(flag: str, key: str | None) -> None:
    if key is not None and not KEY_SHAPE.fullmatch(key):
        raise OptionError(
            f"{flag} must be printable ASCII without spaces or control characters (as given it "
            "could not go into a header or URL unchanged); no request was sent"
        )


def check_ca_bundle(path: str) -> None:
    if not Path(path).is_file():
        raise OptionError(f"--ca-bundle {path!r} is not a file")
    try:
        tls_context(path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise OptionError(f"--ca-bundle {path!r} holds no usable PEM certificate ({exc}); nothing sent") from None


def report_folder(option: str | None, invocation_dir: Path) -> Path:
    """`--report-dir` (default ./reports) against the folder the command runs in, checked writable."""
    report_dir = Path(option or "reports")
    report_dir = report_dir if report_dir.is_absolute() else invocation_dir / report_dir
    check_writable(report_dir)
    return report_dir


def read_baseline(path: Path) -> dict:
    """The baseline, read and checked once, before any report is written (a run replaces behaviour.json)."""
    from fpjs_conformance import behaviour

    if not path.is_file():
        raise OptionError(f"--baseline {str(path)!r} is not a file (an earlier run's reports/behaviour.json)")
    try:
        return behaviour.load(path)
    except ValueError as exc:
        raise OptionError(f"{exc}; no request was sent") from None


def choose_versions(option: str | None, base_url: str | None) -> tuple[str, ...]:
    """The versions `--api-version` names, else the one whose servers' path ends the base URL, else the oldest."""
    known = profiles.versions()
    if option:
        chosen = tuple(dict.fromkeys(v.strip().lower() for v in option.split(",") if v.strip()))
        unknown = [v for v in chosen if v not in known]
        if unknown or not chosen:
            raise OptionError(
                f"--api-version must be one or more of {', '.join(known)}, comma-separated (got {option!r})"
            )
        return chosen
    served = profiles.served_at(base_url) if base_url else []
    return (served[0] if served else known[0],)


def base_urls_of(base_url: str | None, region: str | None, versions: tuple[str, ...]) -> dict[str, str] | None:
    """Each version's base URL: a region's server from the document, or --base-url.

    With one version, --base-url is used as given. With several, it is the root: each version adds
    its servers' path, after any such path the given URL ends with is taken off.
    """
    if region:
        for version in versions:
            servers = profiles.load(version).servers
            if region not in servers:
                raise OptionError(f"--region must be one of {', '.join(servers)} (got {region!r})")
        return {v: profiles.load(v).servers[region] for v in versions}
    if not base_url:
        return None
    url = base_url.rstrip("/")
    if len(versions) == 1:
        return {versions[0]: url}
    for version in profiles.versions():
        suffix = profiles.load(version).server_path
        if suffix and url.endswith(suffix):
            url = url[: -len(suffix)]
    return {v: url + profiles.load(v).server_path for v in versions}


def check_base_url(url: str) -> None:
    """An http(s) URL with a host, a valid port, a bracketed IPv6 literal, and no query or fragment."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        netloc = url.split("://", 1)[-1].split("/", 1)[0]
        hint = " (an IPv6 address goes in brackets: http://[::1]:8080)" if netloc.count(":") > 1 else ""
        raise OptionError(f"--base-url {url!r} has no valid host and port: {exc}{hint}") from None
    if parts.scheme not in ("http", "https"):
        raise OptionError(f"--base-url must start with http:// or https:// (got {url!r})")
    if not parts.hostname:
        raise OptionError(f"--base-url {url!r} names no host")
    if parts.query or parts.fragment or url.rstrip("/").endswith(("?", "#")):
        raise OptionError(f"--base-url {url!r} must not carry a query or fragment: the suite adds the path after it")


def rate_limit(option: str | None, base_url: str | None) -> float | None:
    """Requests per second from `--rate-limit` (`5`, `5/s`, `0` for none); by default unlimited on
    loopback (the bundled server included) and the live API's limit anywhere else."""
    if option is None:
        return None if base_url is None or is_loopback(split_userinfo(base_url)[0]) else LIVE_RATE_LIMIT
    if option.strip().lower() in ("0", "none", "unlimited"):
        return None
    return positive(option.strip().lower().removesuffix("/s"), "--rate-limit")


def positive(text: str, option: str, most: float | None = None) -> float:
    """A finite number above zero (nan and inf are not), at most `most`."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):
        raise OptionError(f"{option} must be a positive, finite number (got {text!r})")
    if most is not None and value > most:
        raise OptionError(f"{option} must be at most {most:g} seconds (got {text!r})")
    return value


def count(text: str, option: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise OptionError(f"{option} must be a positive whole number (got {text!r})")
    return value


def check_writable(report_dir: Path) -> None:
    """The folder can be made and written: checked without creating anything."""
    path = report_dir
    while not path.exists():
        if path.parent == path:
            break
        path = path.parent
    if path != report_dir and not path.is_dir():
        raise OptionError(f"--report-dir {str(report_dir)!r} cannot be made: {str(path)!r} is not a folder")
    if path == report_dir and not path.is_dir():
        raise OptionError(f"--report-dir {str(report_dir)!r} is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise OptionError(f"--report-dir {str(report_dir)!r} is not writable")
