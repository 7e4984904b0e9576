"""The designated event is left as found: original values written back and verified at the end."""

import secrets

import httpx
import pytest

from refserver import Settings
from tests.runner import reference_server, run_suite

ORIGINAL = {"linkedId": "customer-42", "tag": {"order": {"id": 7, "items": [1, 2]}}, "suspect": True}
ID = Settings().request_id


def stored(url, key):
    data = httpx.get(f"{url}/events/{ID}", headers={"Auth-API-Key": key}, timeout=5).json()
    return {k: data["products"]["identification"]["data"].get(k) for k in ORIGINAL}


@pytest.mark.parametrize("restore", [True, False], ids=["restore", "no-restore"])
def test_event_is_left_as_found(tmp_path, restore):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as s:
        httpx.put(f"{s.url}/events/{ID}", headers={"Auth-API-Key": key}, json=ORIGINAL, timeout=5).raise_for_status()
        extra = [] if restore else ["--no-restore"]
        run = run_suite(s.url, key, tmp_path, "-k", "UE-SEM or UE-AUTH-04", *extra)
        assert run.returncode == 0, run.output[-2000:]
        after = stored(s.url, key)
    if restore:
        assert after == ORIGINAL
        assert "designated event: restored" in run.output
    else:
        assert after != ORIGINAL  # the suite did change it: restoring is what puts it back
        assert "designated event: off" in run.output
