"""The real keys (`Secrets`), known only to the codec and the transport: a symbolic key spelled as its real
value and its replay form (`value`), and a key text named back (`name`). No repr shows a key."""

from __future__ import annotations

from dataclasses import dataclass, field

from fpjs_conformance import redact
from fpjs_conformance.model import EMPTY, FOREIGN, NEAR_MISSES, VALID, WRONG_REGION, Key

API_KEY_VAR = redact.API_KEY_VAR
WRONG_REGION_VAR = "FPJS_WRONG_REGION_API_KEY"
FOREIGN_VAR = "FPJS_FOREIGN_API_KEY"
USERINFO_VAR = "FPJS_BASE_URL_USERINFO"


@dataclass(frozen=True)
class Secrets:
    """The real keys, known only here; no repr shows them (a traceback's locals included)."""

    api_key: str = field(repr=False)
    wrong_region_api_key: str | None = field(default=None, repr=False)
    userinfo: str | None = field(default=None, repr=False)  # `user:password` of the base URL
    foreign_api_key: str | None = field(default=None, repr=False)  # a key of another workspace

    def value(self, key: Key) -> tuple[str, str]:
        """(real value, replay form) of a symbolic key."""
        if key.kind == "valid":
            return self.api_key, f"${{{API_KEY_VAR}}}"
        if key.kind == "wrong_region":
            if self.wrong_region_api_key is None:
                raise LookupError("--wrong-region-api-key was not given")
            return self.wrong_region_api_key, f"${{{WRONG_REGION_VAR}}}"
        if key.kind == "foreign":
            if self.foreign_api_key is None:
                raise LookupError("--foreign-api-key was not given")
            return self.foreign_api_key, f"${{{FOREIGN_VAR}}}"
        if key.kind == "padded":
            return f"{key.variant}{self.api_key}{key.variant}", f"{key.variant}${{{API_KEY_VAR}}}{key.variant}"
        if key.kind == "empty":
            return "", ""
        if key.kind == "near":
            value, shell = NEAR_MISSES[key.variant](self.api_key, API_KEY_VAR)
            if value == self.api_key:  # e.g. swap-case of a key without letters
                value, shell = NEAR_MISSES["append-char"](self.api_key, API_KEY_VAR)
            return value, shell
        return key.variant, key.variant

    def name(self, text: str, literals: frozenset[str] = frozenset()) -> Key | None:
        """The symbolic key a key text is (the inverse of `value`), or None for a text no key of these secrets
        nor `literals` (keys the suite itself sends, never secret) spells."""
        if text == "":
            return EMPTY
        keys = ((self.api_key, VALID), (self.wrong_region_api_key, WRONG_REGION), (self.foreign_api_key, FOREIGN))
        for secret, named in keys:
            if secret and text == secret:
                return named
        key = self.api_key
        if key and key in text:
            pad = text[: text.index(key)]
            if pad and not pad.strip() and text == f"{pad}{key}{pad}":
                return Key("padded", pad)
        if key:
            for variant, mutate in NEAR_MISSES.items():
                if mutate(key, "")[0] == text:
                    return Key("near", variant)
        return Key("literal", text) if text in literals else None

    def all(self) -> list[str]:
        out = [s for s in (self.api_key, self.wrong_region_api_key, self.foreign_api_key) if s]
        if self.userinfo:
            out += [self.userinfo, self.userinfo.partition(":")[2]]
        return [s for s in out if s]

    def scrub(self, text: str) -> str:
        return redact.scrub(text, self.all())

    def scrub_bytes(self, data: bytes) -> bytes:
        """What a server sent back, with any key (or identifying near miss) it echoed replaced."""
        return redact.scrub_bytes(data, self.all())
