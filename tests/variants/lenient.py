"""Parsers that take more than JSON (issue 23): each mutant reads the body with the lenient parser real
servers use in place of a strict one, and stores what it read. The coverage table's walk over RFC 8259's
grammar (fpjs_conformance/rules/lenient.py) must refuse every one of them: JSON5 (comments, trailing
commas, single quotes, unquoted names, JavaScript numbers), Python's json with `strict=False` (raw
control characters), a reader that stops after the first value, a fallback to Python literals; and a
server that checks the first of two duplicate members but stores the last; numbers stored as strings. A
control keeps numbers past a double as the text they came as, and reads them back so (valid JSON: the
contract allows it).
"""

import ast
import json
import re

import json5
from starlette.responses import Response

from fpjs_conformance.refserver import Answer, ReferenceServer
from tests.variants import control, mutant


class Parses(ReferenceServer):
    """Base: the body read by `lenient`; what it cannot read, the reference server's parser refuses."""

    def lenient(self, text: str):
        raise ValueError("not lenient")

    def parse_body(self, raw, d):
        try:
            return super().parse_body(raw, d)
        except Answer:
            try:
                value = self.lenient(raw.decode("utf-8"))
            except (ValueError, SyntaxError, UnicodeDecodeError, RecursionError, TypeError, MemoryError):
                raise self.error(d, "bad_request", "request body is not valid") from None
            if not isinstance(value, dict):
                raise self.error(d, "bad_request", "request body is not valid") from None
            return value


@mutant("json5-parser", "UE-BODY-04", coverage_only=True)
class Json5Parser(Parses):
    """Reads bodies with a JSON5 parser (the `json5` package): comments, trailing commas, single quotes,
    unquoted names, `+1`, `.5`, hex numbers, NaN and Infinity all pass."""

    def lenient(self, text):
        return json5.loads(text)


@mutant("control-characters-allowed", "UE-BODY-04", coverage_only=True)
class ControlCharactersAllowed(Parses):
    """Python's json with `strict=False`: raw control characters inside strings pass."""

    def lenient(self, text):
        return json.loads(text, strict=False)


@mutant("first-value-read", "UE-BODY-04", coverage_only=True)
class FirstValueRead(Parses):
    """Reads the first JSON value and ignores what follows it (`raw_decode`, a streaming reader)."""

    def lenient(self, text):
        return json.JSONDecoder().raw_decode(text.lstrip())[0]


@mutant("python-literal-fallback", "UE-BODY-04", coverage_only=True)
class PythonLiteralFallback(Parses):
    """Falls back to Python's literal parser when JSON fails, JSON's literals renamed first (a hack seen in
    the wild): single quotes, trailing commas, `+1`, `.5` and hex numbers pass."""

    def lenient(self, text):
        python = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", text)))
        return ast.literal_eval(python)


@mutant("duplicates-first-checked-last-stored", "UE-BODY-10", "UE-SEM-01", coverage_only=True)
class DuplicatesFirstCheckedLastStored(ReferenceServer):
    """Two parsers: the validating one keeps the first of duplicate members (a streaming validator), the
    storing one the last (Python's json): a valid value checked, an invalid one stored."""

    def parse_body(self, raw, d):
        last = super().parse_body(raw, d)
        try:
            first = json.loads(raw.decode("utf-8"), object_pairs_hook=_first_wins)
        except ValueError:
            return last
        self._stored = last  # what the store will take
        return first

    def update_of(self, body, d):
        stored = getattr(self, "_stored", body)
        return {s: stored[w] for w, s in d.fields.items() if w in stored}


def _first_wins(pairs):
    out = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


@mutant("numbers-stored-as-strings", "UE-BODY-11", coverage_only=True)
class NumbersStoredAsStrings(ReferenceServer):
    """Keeps numbers with a fraction or an exponent as strings (a decimal column read back as text): the
    read-back is JSON, but `1.5` comes back as `"1.5"`."""

    def parse_body(self, raw, d):
        try:
            value = json.loads(raw.decode("utf-8"), parse_float=str, parse_constant=_refuse)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return super().parse_body(raw, d)
        return value if isinstance(value, dict) else super().parse_body(raw, d)


@control("numbers-kept-as-text")
class NumbersKeptAsText(ReferenceServer):
    """Keeps every number as the text it came as (a decimal store), 1e400 included, and reads it back so:
    valid JSON, a number in its place (RFC 8259, 6 lets a server keep what it cannot represent)."""

    def parse_body(self, raw, d):
        try:
            value = json.loads(raw.decode("utf-8"), parse_float=_Text, parse_int=_Text, parse_constant=_refuse)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return super().parse_body(raw, d)
        return value if isinstance(value, dict) else super().parse_body(raw, d)

    def validate(self, body, d):
        super().validate(_plain(body), d)

    async def get(self, request, d):
        try:
            self.authenticate(request, d)
            with self.lock:
                event = self.owned(self.find_event(request.path_params["event_id"], d), request, d)
                text = json.dumps(_marked(self.read(event, d)))
            return Response(re.sub(r'"\\u0000(-?[0-9.eE+-]+)"', r"\1", text), media_type="application/json")
        except Answer as answer:
            return answer.response


class _Text(str):
    """A number kept as its JSON text."""


def _refuse(name):
    raise ValueError(name)


def _plain(value):
    """What the validator sees: numbers as numbers."""
    if isinstance(value, _Text):
        return float(value) if any(c in value for c in ".eE") else int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _marked(value):
    """Numbers kept as text, marked so that the encoder's output can put them back unquoted."""
    if isinstance(value, _Text):
        return "\0" + str(value)
    if isinstance(value, dict):
        return {k: _marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_marked(v) for v in value]
    return value
