"""A version and a base URL that disagree (`--api-version=v3` with a `/v4` URL, v4 without `/v4`): the run
stops with one line saying the URL serves the other version, not that the key was refused or the
event not found. Against the reference server, which serves both versions under their paths."""

from __future__ import annotations

import secrets

import pytest

from fpjs_conformance import profile as profiles
from tests.runner import reference_server, run_suite

PAIRS = [(mine, other) for mine in profiles.versions() for other in profiles.versions() if mine != other]


@pytest.mark.parametrize(("asked", "served"), PAIRS, ids=[f"{a}-at-{s}" for a, s in PAIRS])
def test_a_url_of_the_other_version_is_named_as_such(asked, served, tmp_path):
    key = "urls-" + secrets.token_hex(10)
    with reference_server(key) as server:
        url = server.url + profiles.load(served).server_path
        run = run_suite(url, key, tmp_path, f"--api-version={asked}", "--hypothesis-profile=table")
    assert run.returncode == 6, run.output[-3000:]
    stopped = run.summary["stopped"]
    assert f"--api-version={served}" in stopped, stopped
    assert run.summary["versions"][0]["stopped"] == stopped
