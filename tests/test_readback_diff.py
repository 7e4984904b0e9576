"""A read-back that differs is shown as JSON paths (`/tag/origin: present, not sent`), one-line summaries
cut long values (the reports keep them whole), and the shortest failing example is shown first."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpjs_conformance import checks
from fpjs_conformance.checks import Violation, differences, same_json
from fpjs_conformance.ledger import MAX_EXAMPLES, Ledger
from fpjs_conformance.model import Body, Credentials, Exchange, Request
from tests.runner import reference_server, run_suite

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab", max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("ab/~", max_size=2), inner, max_size=3),
    max_leaves=8,
)


def resolve(document, pointer: str):
    """The value at an RFC 6901 pointer, or KeyError."""
    node = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


@given(JSON, JSON)
def test_differences_are_empty_exactly_when_the_values_are_the_same(sent, read):
    found = differences({"f": sent}, {"f": read})
    assert (found == []) == same_json(sent, read)
    for line in found:
        pointer, _, what = line.partition(": ")
        if line.startswith("..."):
            continue
        assert pointer.startswith("/f")
        holder = {"f": read} if what.startswith("present, not sent") else {"f": sent}
        resolve(holder, pointer)  # every path names a place in what was sent (or, for an extra, what was read)


def test_a_merged_object_names_the_members_never_sent():
    sent = {"tag": {"fpjs": "second", "second": 2}}
    read = {"tag": {"fpjs": "second", "second": 2, "first": 1, "origin": "p" * 16000}}
    with pytest.raises(Violation) as caught:
        checks.stored_fields_match("UE-SEM-03", read, sent, exchange(b"{}"))
    v = caught.value
    assert "/tag/first: present, not sent" in v.differences and "/tag/origin: present, not sent" in v.differences
    assert len(v.summary()) < 1000  # the line a reader reads
    assert "p" * 16000 in v.received  # the whole value, for the reports


@given(st.text(), st.text())
def test_differences_are_printable_text_whatever_the_strings_hold(sent, read):
    """Lone surrogates, controls: every path line can be written as UTF-8 and shows what it holds."""
    for line in differences({sent: sent}, {sent: read, read + "x": 1}):
        line.encode("utf-8")
        assert "\n" not in line and "\r" not in line


def exchange(body: bytes) -> Exchange:
    request = Request("x", Credentials(), Body.bytes_(body))
    return Exchange(request, "PUT", "http://127.0.0.1:9/events/x", {}, status=200, version="v3")


@given(st.lists(st.integers(0, 3000), min_size=1, max_size=12))
def test_the_ledger_keeps_the_shortest_examples_shortest_first(lengths):
    ledger = Ledger("v3")
    for i, n in enumerate(lengths):
        ledger.failed(Violation("UE-BODY-06", "400", f"{i:03d}:500", exchange(b"x" * n)))  # one width: sizes by n
    kept = [lengths[int(e["received"].split(":")[0])] for e in ledger.clauses["UE-BODY-06"].examples]
    assert kept == sorted(lengths)[:MAX_EXAMPLES]  # the shortest, the shortest first
    assert ledger.failures[0]["received"] == "000:500"  # the failures keep the order found


def test_a_merging_server_is_reported_by_paths_in_short_lines(tmp_path):
    key = "diff-" + secrets.token_hex(10)
    with reference_server(key, "-m", "tests.variants", "object-merged") as server:
        run = run_suite(server.url, key, tmp_path, "--hypothesis-profile=table")
    assert run.returncode == 1, run.output[-3000:]
    first_lines = [line for line in run.output.splitlines() if line.startswith("[v3] UE-SEM-0")]
    assert first_lines and max(map(len, first_lines)) < 1000
    cells = {c["id"]: c["versions"]["v3"] for c in run.summary["clauses"]}
    examples = cells["UE-SEM-03"]["examples"]
    assert any(p.endswith(": present, not sent") for e in examples for p in e.get("differences", []))
    md = (tmp_path / "summary.md").read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if line.startswith("| UE-SEM-03 "))
    assert "present, not sent" in row and len(row) < 1200
