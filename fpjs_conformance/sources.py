"""What an expectation rests on: the document, an RFC, the vendor's own evidence, or the suite's judgement.

Every clause (`contracts/clauses.toml`), every error role and every limit (`contracts/<version>.toml`)
names its sources as short strings, read and checked when they are loaded:

    "document"                      the clause's own `spec.<version>` pointer (clauses.toml only)
    "document:/components/..."      a JSON pointer into the version's document (it must resolve)
    "rfc:RFC 9110, 11.1"            an RFC section
    "vendor:https://github.com/<owner>/<repo>/blob/<commit>/<path>"   vendor evidence at a commit,
    "vendor:https://github.com/<owner>/<repo>/issues/<n>"             an issue or pull request,
    "vendor:https://docs.fingerprint.com/..."                         or a documentation page
    "judgement:<why>"               the suite's own judgement, and why

Why it matters: a failure that breaks only what rests on the suite's judgement is reported at SHOULD
level (a warning; `--strict` makes it fail), while the document, an RFC or the vendor's evidence
stay MUST. No imports of the suite: the profile and the catalogue both parse here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("document", "rfc", "vendor", "judgement")
SHOULD = "SHOULD"
_RFC = re.compile(r"RFC \d{3,5}(, \d+(\.\d+)*)?")
_GITHUB = re.compile(
    r"https://github\.com/[\w.-]+/[\w.-]+/(?:(?:blob|tree)/[0-9a-f]{40}/\S+|(?:issues|pull)/\d+(?:#\S*)?)"
)
_PAGE = re.compile(r"https://[\w.-]+\.[a-z]{2,}/\S*")


class SourceError(ValueError):
    """A source that does not say where an expectation comes from in a form the suite can check."""


@dataclass(frozen=True)
class Source:
    kind: str  # one of KINDS
    ref: str = ""  # a pointer ("" for a clause's own), the RFC section, the link, or why (the judgement)

    @property
    def judgement(self) -> bool:
        return self.kind == "judgement"

    @property
    def link(self) -> str | None:
        return self.ref if self.kind == "vendor" else None

    def describe(self) -> str:
        if self.kind == "document":
            return f"the document at {self.ref}" if self.ref else "the document"
        if self.kind == "judgement":
            return f"the suite's judgement: {self.ref}"
        return self.ref if self.kind == "rfc" else f"vendor evidence: {self.ref}"

    def as_record(self) -> dict[str, str]:
        return {"kind": self.kind, "ref": self.ref}


def parse(text: object, where: str) -> Source:
    """One source string, checked for its form (a document pointer is resolved by whoever has the document)."""
    if not isinstance(text, str) or not text.strip():
        raise SourceError(f"{where}: a source must be a non-empty string (one of {', '.join(KINDS)})")
    kind, _, ref = text.strip().partition(":")
    ref = ref.strip()
    if kind not in KINDS:
        raise SourceError(f"{where}: source {text!r} must start with one of {', '.join(k + ':' for k in KINDS)}")
    if kind == "document" and ref and not ref.startswith("/"):
        raise SourceError(f"{where}: {text!r}: a document source is a JSON pointer starting with '/'")
    if kind == "rfc" and not _RFC.fullmatch(ref):
        raise SourceError(f"{where}: {text!r}: an RFC source reads 'rfc:RFC 9110, 11.1'")
    if kind == "vendor" and not (_GITHUB.fullmatch(ref) or (_PAGE.fullmatch(ref) and "github.com" not in ref)):
        raise SourceError(
            f"{where}: {text!r}: vendor evidence is a repository path at a 40-character commit "
            "(https://github.com/<owner>/<repo>/blob/<commit>/<path>), an issue or pull request, or a docs page"
        )
    if kind == "judgement" and not ref:
        raise SourceError(f"{where}: {text!r}: say why the suite judges so ('judgement:<why>')")
    return Source(kind, ref)


def parse_all(value: object, where: str) -> tuple[Source, ...]:
    """A source string or a list of them (at least one)."""
    items = value if isinstance(value, list) else [value]
    if not items or value is None:
        raise SourceError(f"{where}: names no source (the document, an RFC, vendor evidence or the suite's judgement)")
    return tuple(parse(item, where) for item in items)


def level(sources: tuple[Source, ...], otherwise: str) -> str:
    """SHOULD when every source is the suite's judgement; else the level given (MUST, OPEN, CLIENT)."""
    return SHOULD if sources and all(s.judgement for s in sources) else otherwise


def judged(sources: tuple[Source, ...]) -> tuple[Source, ...]:
    """The sources that are the suite's judgement."""
    return tuple(s for s in sources if s.judgement)
