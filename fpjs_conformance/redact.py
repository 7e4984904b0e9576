"""The one scrubber: secrets, and the near misses of them the suite derives, out of any text.

Used where data leaves, never where it arrives: on failure text, captured output, everything pytest
writes to the terminal, log records, and every report file. What the server sent is judged (and
the designated event restored) from the bytes as they came; a key equal to a field name would
otherwise bend the data. A secret is scrubbed in every form it can take on its way out
(`forms`): as it is, percent-encoded (both letter cases of the hex digits, and a space as `+`),
JSON-escaped, and a `user:password` pair as the base64 of a Basic credential. A derived near
miss is scrubbed only when it is long enough to identify the key (`MIN_FRAGMENT`): half of a short
key is an ordinary word, and scrubbing it would garble file names and pytest's own output.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from fpjs_conformance.model import NEAR_MISSES

SECRET = "[secret]"
MIN_SECRET = 4  # a shorter "secret" is not one: replacing it everywhere would destroy the output
MIN_FRAGMENT = 8  # characters a near miss needs before it counts as identifying the key
API_KEY_VAR = "FPJS_API_KEY"
# The characters a URL encoder may leave as they are: none, a path's `/`, a query's sub-delimiters, or
# every reserved character (RFC 3986, 2.2), as encoders differ.
URL_SAFE_SETS = ("", "/", "/=", "/:=+", ":/?#[]@!$&'()*+,;=")


def secret_variants(secrets: Iterable[str]) -> list[str]:
    """Every string to scrub, longest first (so a key is replaced before its own prefix)."""
    return _variants(tuple(secrets))


def forms(secret: str) -> set[str]:
    """Every form `secret` can take in what the suite writes or shows: as it is; percent-encoded as a URL
    carries it (`quote`, `quote_plus`, with upper- and lower-case hex digits); JSON-escaped (as JSON
    text carries it, `/` escaped too, and with `<`, `>`, `&` as `\\u003c`-style escapes, as Go writes
    them); and, for a `user:password` pair, the base64 of the Basic credential (RFC 7617) a URL's
    userinfo goes out as."""
    out = {secret}
    encoded = {quote_plus(secret, safe="")} | {quote(secret, safe=safe) for safe in URL_SAFE_SETS}
    for form in encoded:
        out |= {form, _lower_hex(form)}
    escaped = json.dumps(secret)[1:-1]
    out |= {escaped, escaped.replace("/", "\\/"), _json_html_escaped(escaped)}
    if ":" in secret:
        raw = secret.encode("utf-8", "surrogateescape")
        for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            text = b64.decode("ascii")
            out |= {text, text.rstrip("=")}
    return {form for form in out if len(form) >= MIN_SECRET}


def _lower_hex(encoded: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)


def _json_html_escaped(escaped: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if c in "<>&'=+" else c for c in escaped)


@functools.lru_cache(maxsize=32)
def _variants(secrets: tuple[str, ...]) -> list[str]:
    found: set[str] = set()
    for secret in secrets:
        if len(secret) < MIN_SECRET:
            continue
        found |= forms(secret)
        for mutate in NEAR_MISSES.values():
            value = mutate(secret, API_KEY_VAR)[0]
            if len(value) >= MIN_FRAGMENT and value != secret:
                found |= forms(value)
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Last line of defence: replace every secret, and every identifying near miss of one."""
    for value in secret_variants(secrets):
        if value in text:
            text = text.replace(value, SECRET)
    return text


def scrub_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    """`scrub` for bytes (what a server sent back, echoed keys included)."""
    for value in secret_variants(secrets):
        raw = value.encode("utf-8", "ignore")
        if raw and raw in data:
            data = data.replace(raw, SECRET.encode())
    return data


class ScrubbingStream:
    """A text stream that scrubs what is written through it (pytest's terminal writer writes here).

    `secrets` is read at every write: keys generated later in the run (the bundled server's) are
    covered once they are added to it.
    """

    def __init__(self, stream, secrets: list[str]):
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(scrub(text, self._secrets))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def scrub_logging(secrets: list[str]) -> None:
    """Every log record is scrubbed as it is made, whatever logger made it and whichever handler writes
    it (`--log-file`, `--log-cli-level`, caplog): httpx logs each URL it requests, a key in the query
    and a password in the userinfo with it. `secrets` is read at every record."""
    made = logging.getLogRecordFactory()
    if getattr(made, "fpjs_scrubs", None) is secrets:
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = made(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format: left to logging to report
            return record
        cleaned = scrub(message, secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    factory.fpjs_scrubs = secrets  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def scrub_reprs(secrets: list[str]) -> None:
    """pytest shortens the reprs it shows (locals with -l, arguments in long tracebacks) before it prints
    them, which can cut a key in two where no scrubber finds it: scrub each repr whole, then shorten it."""
    from _pytest._code import code
    from _pytest._io import saferepr as module

    if getattr(code.saferepr, "fpjs_scrubs", None) is secrets:
        return

    def saferepr(obj: object, maxsize: int | None = module.DEFAULT_REPR_MAX_SIZE, use_ascii: bool = False) -> str:
        whole = scrub(module.saferepr(obj, maxsize=None, use_ascii=use_ascii), secrets)
        return whole if maxsize is None else module._ellipsize(whole, maxsize)

    saferepr.fpjs_scrubs = secrets  # type: ignore[attr-defined]
    code.saferepr = saferepr


def mask_in_place(handle, secrets: list[str]) -> None:
    """Mask the secrets in what an open file already holds, keeping every byte where it is (the writer
    goes on at its own offset): `--debug` writes pytest's command line before any plugin runs."""
    handle.flush()
    with open(handle.name, "r+b") as fh:
        data = fh.read()
        masked = data
        for value in secret_variants(secrets):
            raw = value.encode()
            masked = masked.replace(raw, b"*" * len(raw))
        if masked != data:
            fh.seek(0)
            fh.write(masked)
