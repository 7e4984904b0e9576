"""The one scrubber: secrets, and the near misses of them the suite derives, out of any text.

Used where data leaves, never where it arrives: on failure text, captured output, everything pytest
writes to the terminal, log records, and every report file. What the server sent is judged (and
the designated event restored) from the bytes as they came; a key equal to a field name would
otherwise bend the data. A secret is scrubbed in every form it can take on its way out
(`forms`): each of its characters as it is, percent-encoded (either letter case; a space as `+`),
JSON-escaped or as an HTML/XML character reference, in any mix, and a `user:password` pair as the
base64 of a Basic credential. A derived near
miss is scrubbed only when it is long enough to identify the key (`MIN_FRAGMENT`): half of a short
key is an ordinary word, and scrubbing it would garble file names and pytest's own output.
"""

from __future__ import annotations

import base64
import functools
import html
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from fpjs_conformance.model import NEAR_MISSES

SECRET = "[secret]"
MIN_SECRET = 4  # a shorter "secret" is not one: replacing it everywhere would destroy the output
MIN_FRAGMENT = 8  # characters a near miss needs before it counts as identifying the key
API_KEY_VAR = "FPJS_API_KEY"


def secret_variants(secrets: Iterable[str]) -> list[str]:
    """Every secret to scrub, and its identifying near misses, longest first (so a key is replaced before
    its own prefix)."""
    return _variants(tuple(secrets))


@functools.lru_cache(maxsize=32)
def _variants(secrets: tuple[str, ...]) -> list[str]:
    found: set[str] = set()
    for secret in secrets:
        if len(secret) < MIN_SECRET:
            continue
        found.add(secret)
        for mutate in NEAR_MISSES.values():
            value = mutate(secret, API_KEY_VAR)[0]
            if len(value) >= MIN_FRAGMENT and value != secret:
                found.add(value)
    return sorted(found, key=len, reverse=True)


def _char(c: str) -> str:
    """A pattern for one character as any encoder on the way out may write it: as it is; percent-encoded
    (its UTF-8 bytes, hex digits in either case; a space as `+`); JSON-escaped (`\\uXXXX` in either case,
    `\\"`, `\\\\`, `\\/`); or as an HTML or XML character reference."""
    alts = {re.escape(c), "".join(f"%{_hex(f'{b:02x}')}" for b in c.encode("utf-8", "surrogatepass"))}
    if c == " ":
        alts.add(r"\+")
    if ord(c) <= 0xFFFF:
        alts.add(rf"\\u{_hex(f'{ord(c):04x}')}")
    if c in '"\\/':
        alts.add(re.escape("\\" + c))
    named = html.escape(c)
    if named != c:
        alts |= {re.escape(named), re.escape("&apos;")} if c == "'" else {re.escape(named)}
    if not c.isalnum():
        alts |= {rf"&\#0*{ord(c)};", rf"&\#[xX]0*{_hex(f'{ord(c):x}')};"}
    return "(?:" + "|".join(sorted(alts, key=len, reverse=True)) + ")"


def _hex(digits: str) -> str:
    """Hex digits in either letter case, as character classes (faster than a case-insensitive group)."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


def forms(secret: str) -> tuple[str, list[str]]:
    """How to find `secret` in whatever the suite writes or shows: a pattern of each of its characters as
    any encoder may write it (`_char`: percent-encoding of any part, JSON escapes, HTML character
    references, in any mix); and the literal forms no character pattern finds: for a `user:password`
    pair, the base64 of the Basic credential (RFC 7617) a URL's userinfo goes out as."""
    literals = []
    if ":" in secret:
        raw = secret.encode("utf-8", "surrogateescape")
        for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            text = b64.decode("ascii")
            literals += [text, text.rstrip("=")]
    return "".join(_char(c) for c in secret), literals


ANCHOR = 4  # alphanumeric characters in a row that find where a secret may be, before any pattern runs


@dataclass(frozen=True)
class _Finder:
    anchor: str | None
    text: re.Pattern[str]
    data: re.Pattern[bytes]
    literals: tuple[str, ...]


@functools.lru_cache(maxsize=32)
def _finders(secrets: tuple[str, ...]) -> list[_Finder]:
    """Per secret and near miss (the longest first): an anchor, the pattern of its forms, its literal forms.

    No encoder on the way out changes a letter or a digit (RFC 3986, 2.3: unreserved; JSON and HTML leave
    them be), so every form of a value holds its longest run of them as it is: only text holding that
    anchor is searched with the (slow) pattern. A value without a run of `ANCHOR` is always searched."""
    out = []
    for value in _variants(secrets):
        pattern, literals = forms(value)
        anchor = max(re.findall(r"[A-Za-z0-9]+", value), key=len, default="")
        compiled = re.compile(pattern), re.compile(pattern.encode("utf-8", "surrogatepass"))
        out.append(_Finder(anchor if len(anchor) >= ANCHOR else None, *compiled, tuple(literals)))
    return out


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Last line of defence: replace every form of every secret, and of every identifying near miss of one."""
    for f in _finders(tuple(secrets)):
        if f.anchor is None or f.anchor in text:
            text = f.text.sub(SECRET, text)
        for literal in f.literals:
            if literal in text:
                text = text.replace(literal, SECRET)
    return text


def scrub_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    """`scrub` for bytes (what a server sent back, echoed keys included)."""
    for f in _finders(tuple(secrets)):
        if f.anchor is None or f.anchor.encode() in data:
            data = f.data.sub(SECRET.encode(), data)
        for literal in f.literals:
            if literal.encode() in data:
                data = data.replace(literal.encode(), SECRET.encode())
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
        for f in _finders(tuple(secrets)):
            masked = f.data.sub(lambda m: b"*" * len(m.group(0)), masked)
            for literal in f.literals:
                masked = masked.replace(literal.encode(), b"*" * len(literal))
        if masked != data:
            fh.seek(0)
            fh.write(masked)
