"""Semantics: what an accepted update does to the stored event (read back with GET)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import strategies
from contracts import checks, oracle
from contracts.clauses import clause
from contracts.model import Body

BASE = {"linkedId": "fpjs-conformance-base", "tag": {"suite": "base", "n": [1, 2]}, "suspect": True}
STORED = {"linkedId": "linkedId", "tag": "tag", "suspect": "suspect"}  # body field -> read-back field


@pytest.fixture(scope="session")
def reading(target):
    if not target.reads_back:
        for cid in ("UE-SEM-01", "UE-SEM-02", "UE-SEM-03", "UE-SEM-04"):
            target.ledger.skipped(cid, "the target does not serve GET /events/{request_id}")
        pytest.skip("the target does not serve GET /events/{request_id}: nothing to read back")
    return target


def _stored(target):
    return target.read_back() or {}


@clause("UE-SEM-01")
@example(body=Body.of({"linkedId": "L" * oracle.LINKED_ID_LIMIT}), suspect=False)  # the documented limit
@given(body=strategies.valid_bodies(extra=False), suspect=st.booleans())
def test_accepted_update_is_stored(reading, body, suspect):
    fields = {**body.json_value, "suspect": suspect}
    ex = reading.verify(reading.update(fields), "UE-SEM-01")
    checks.stored_fields_match("UE-SEM-01", _stored(reading), {STORED[k]: v for k, v in fields.items()}, ex)


@clause("UE-SEM-02")
@given(field=st.sampled_from(sorted(STORED)), data=st.data())
def test_update_is_partial(reading, field, data):
    reading.verify(reading.update(dict(BASE)), "UE-SEM-02")
    value = data.draw(strategies.field_values(field), label=field)
    ex = reading.verify(reading.update({field: value}), "UE-SEM-02")
    want = {STORED[k]: v for k, v in BASE.items() if k != field}
    want[STORED[field]] = value
    checks.stored_fields_match("UE-SEM-02", _stored(reading), want, ex)


@clause("UE-SEM-03")
def test_tag_replaces_whole_tag(reading):
    reading.verify(reading.update({"tag": {"first": 1, "shared": {"a": 1}}}), "UE-SEM-03")
    ex = reading.verify(reading.update({"tag": {"second": 2, "shared": {"b": 2}}}), "UE-SEM-03")
    checks.stored_fields_match("UE-SEM-03", _stored(reading), {"tag": {"second": 2, "shared": {"b": 2}}}, ex)


@clause("UE-SEM-04")
@given(body=strategies.valid_bodies())
def test_repeated_update_same_outcome(reading, body):
    request = reading.update(body)
    first = reading.verify(request, "UE-SEM-04")
    stored = _stored(reading)
    second = reading.verify(request, "UE-SEM-04")
    checks.same_outcome(first, second)
    checks.stored_fields_match("UE-SEM-04", _stored(reading), stored, second)
