"""Hostile servers: every run ends within its bound with one clear failure, never a hang or a traceback."""

import secrets

import pytest

from tests.hostile import BEHAVIOURS, HostileServer
from tests.runner import run_suite

# behaviour -> (clause the failure must name, a word the one-line reason must carry)
EXPECTED = {
    "hang": ("UE-TRANSPORT-01", "timed out"),
    "drip": ("UE-TRANSPORT-01", "not complete"),
    "reset": ("UE-TRANSPORT-01", "Error"),
    "garbage": ("UE-TRANSPORT-01", "Error"),
    "huge": ("UE-TRANSPORT-01", "cap"),
    "storm-429": ("UE-TRANS-02", "429"),
}


def assert_clean_failure(run, clause, word, key):
    assert run.returncode == 1, run.output[-3000:]
    first = next(line for line in run.output.splitlines() if " violated | " in line or line.startswith("!"))
    assert clause in first and word in first, first
    for bad in ("Traceback", "INTERNALERROR", key):
        assert bad not in run.output


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_hostile_server_gives_one_clear_failure(name, tmp_path):
    key = "canary" + secrets.token_hex(8)
    with HostileServer(BEHAVIOURS[name]) as server:
        run = run_suite(server.url, key, tmp_path, "-x", "-k", "UE-RESP-01", "--request-timeout=1", timeout=90)
    clause, word = EXPECTED[name]
    assert_clean_failure(run, clause, word, key)
