"""A body's content codings undone (gzip, deflate, raw deflate), never past a cap: a bomb stays small. The
transport decodes answers as they stream; the proxy decodes the prefix of an answer it judges."""

from __future__ import annotations

import zlib


class ContentDecoder:
    """Undo gzip or deflate incrementally, never producing more than asked for (a bomb stays small)."""

    def __init__(self, header: str):
        codings = [c.strip().lower() for c in header.split(",") if c.strip() and c.strip().lower() != "identity"]
        self.encoding = codings[-1] if codings else "identity"
        self.overflowed = False
        if len(codings) > 1 or self.encoding not in ("identity", "gzip", "x-gzip", "deflate"):
            self.encoding = "identity"  # not asked for: judged as the bytes that came
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
        self._z = zlib.decompressobj(wbits[self.encoding]) if self.encoding in wbits else None
        self._first = True

    def feed(self, data: bytes, room: int) -> bytes:
        if self._z is None:
            return data
        if self._first and self.encoding == "deflate" and data and (data[0] & 0x0F) != 8:
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send it
        self._first = False
        out = self._z.decompress(data, max(1, room))
        if self._z.unconsumed_tail:
            self.overflowed = True
        return out

    def flush(self, room: int) -> bytes:
        if self._z is None:
            return b""
        return self._z.flush()[: max(0, room)]


def uncompress(raw: bytes, content_encoding: str, cap: int) -> bytes:
    """A whole body as judged: gzip or deflate undone, at most `cap` bytes (a bomb stays small); the bytes
    as they came, capped, when they do not decode."""
    decoder = ContentDecoder(content_encoding)
    try:
        data = decoder.feed(raw, cap)
        if decoder.overflowed:
            return data
        return (data + decoder.flush(cap - len(data)))[:cap]
    except zlib.error:
        return raw[:cap]
