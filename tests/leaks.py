"""Where a secret shows, in any encoding it can take on the way out.

Rather than encode the secret every way (and miss a mix, such as a key percent-encoded inside a JSON
string), the text is decoded every way and each view searched for the secret, or for any run of
`RUN` of its characters (a near miss of the key, or a key cut short, identifies it too). The decodings, in
any combination: HTML/XML-unescaped, JSON-unescaped, base64-decoded at every alignment (the `user:password`
pair of Basic auth, a body a HAR stored as base64), percent-decoded (upper- or lower-case hex).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

RUN = 12  # characters of a secret that must never show up together
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([\"\\/bfnrt])")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _json_unescape(text: str) -> str:
    return _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else _SIMPLE.get(m[2], m[2]), text)


def _base64_decoded(text: str) -> str:
    """Every base64-looking run of `text`, decoded at each of its four alignments (standard and URL-safe
    alphabets), as latin-1 text: a secret inside an encoded blob shows whole in one of them."""
    out = []
    for match in _BASE64_RUN.finditer(text.encode("utf-8", "replace")):
        run = match[0].rstrip(b"=")
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) - 1] if len(chunk) % 4 == 1 else chunk  # a lone last character is no byte
            chunk += b"=" * (-len(chunk) % 4)
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    out.append(decode(chunk).decode("latin-1"))
                except (binascii.Error, ValueError):
                    continue
    return "\n".join(out)


def views(text: str) -> dict[str, str]:
    """`text` decoded each way a secret may have been encoded on its way out, in any combination: HTML-
    unescaped, then JSON-unescaped, then base64-decoded, then percent-decoded (each step taken or not)."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for h_name, h in (("", text), ("HTML-escaped ", html.unescape(text))):
        for j_name, j in (("", h), ("JSON-escaped ", _json_unescape(h))):
            if j in seen:  # nothing was unescaped: the same text again
                continue
            seen.add(j)
            for b_name, b in (("", j), ("base64 ", _base64_decoded(j))):
                for u_name, u in (("", b), ("percent-encoded ", unquote(b))):
                    out.setdefault((u_name + b_name + j_name + h_name).strip() or "raw", u)
    return out


def fragments(secret: str) -> set[str]:
    """The secret, or every run of RUN of its characters when it is longer."""
    if len(secret) <= RUN:
        return {secret}
    return {secret[i : i + RUN] for i in range(len(secret) - RUN + 1)}


def found(secret: str, text: str) -> str | None:
    """The first encoding in which (a run of) `secret` shows in `text`, or None."""
    return _found(fragments(secret), views(text))


def _found(parts: set[str], decoded: dict[str, str]) -> str | None:
    return next((name for name, view in decoded.items() if any(part in view for part in parts)), None)


def leaks(secrets: dict[str, str], places: dict[str, str]) -> list[str]:
    """One line per (secret, place) where a secret shows: `secrets` name -> value, `places` name -> text."""
    out = []
    for where, text in places.items():
        decoded = views(text)
        for name, secret in secrets.items():
            how = _found(fragments(secret), decoded)
            if how is not None:
                out.append(f"the {name} shows {how} in {where}")
    return out


def files(folder: Path, skip: Iterable[Path] = ()) -> dict[str, str]:
    """Every file under `folder` (but `skip`) as text, by its path relative to `folder`."""
    left_out = {Path(p) for p in skip}
    return {
        str(p.relative_to(folder)): p.read_bytes().decode("utf-8", "replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p not in left_out
    }


def basic_pair(user: str, password: str) -> str:
    """The base64 of `user:password`, as Basic auth sends it (for messages; `found` decodes it anyway)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()
