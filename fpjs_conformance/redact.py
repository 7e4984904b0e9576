"""The one scrubber: secrets, and the near misses of them the suite derives, out of any text.

Used on failure text, captured output, everything pytest writes to the terminal, and every report
file. A derived near miss is scrubbed only when it is long enough to identify the key
(`MIN_FRAGMENT`): half of a short key is an ordinary word, and scrubbing it would garble file names
and pytest's own output.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable

from fpjs_conformance.model import NEAR_MISSES

SECRET = "[secret]"
MIN_SECRET = 4  # a shorter "secret" is not one: replacing it everywhere would destroy the output
MIN_FRAGMENT = 8  # characters a near miss needs before it counts as identifying the key
API_KEY_VAR = "FPJS_API_KEY"


def secret_variants(secrets: Iterable[str]) -> list[str]:
    """Every string to scrub, longest first (so a key is replaced before its own prefix)."""
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
