"""The traffic of a run as data: reports/traffic.har is HAR a parser reads, one entry per request that
went on the wire, scrubbed; the contract surface observed is in the summary; --no-traffic turns it off;
--require-observed=statuses fails a run in which a declared status never came back."""

import json
import secrets

from haralyzer import HarParser

from fpjs_conformance.refserver import Settings
from tests.harness import exposes
from tests.runner import files_text, reference_server, run_suite

IDS = Settings()


def test_a_run_writes_its_traffic_as_har(tmp_path):
    key = "canary" + secrets.token_hex(16)
    with reference_server(key) as backend:
        run = run_suite(
            backend.url, key, tmp_path, "--hypothesis-profile=ci", f"--not-ready-request-id={IDS.not_ready_request_id}"
        )
    assert run.returncode == 0, run.output[-2000:]
    har = json.loads((tmp_path / "traffic.har").read_text())
    parser = HarParser(har)
    entries = [entry for page in parser.pages for entry in page.entries] or har["log"]["entries"]
    sent = sum(v["stats"]["requests_sent"] for v in run.summary["versions"])
    assert len(har["log"]["entries"]) == sent and len(entries) == sent
    kinds = {e["_fpjs"]["kind"] for e in har["log"]["entries"]}
    assert {"preflight", "coverage", "random", "read-back", "restore"} <= kinds, kinds
    assert any(e["_fpjs"]["retried"] for e in har["log"]["entries"])  # the 409s waited out are entries too
    judged = [e for e in har["log"]["entries"] if e["_fpjs"]["kind"] == "coverage" and not e["_fpjs"]["retried"]]
    assert judged and all(e["_fpjs"]["version"] == "v3" and e["_fpjs"]["verdicts"] for e in judged)
    assert not exposes(files_text(tmp_path), key)
    observed = run.summary["observed"]["v3"]
    assert observed["statuses"]["missing"] == [] and observed["key_places"]["query"] > 0


def test_no_traffic_writes_none(tmp_path):
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as backend:
        run = run_suite(backend.url, key, tmp_path, "--hypothesis-profile=table", "--no-traffic")
    assert run.returncode == 0 and not (tmp_path / "traffic.har").exists(), run.output[-2000:]


def test_a_declared_status_that_never_came_back_fails_a_run_that_requires_it(tmp_path):
    """Without --not-ready-request-id, 409 never comes back: --require-observed=statuses says so (exit 7)."""
    key = "k" + secrets.token_hex(10)
    with reference_server(key) as backend:
        plain = run_suite(backend.url, key, tmp_path / "a", "--hypothesis-profile=table")
        strict = run_suite(
            backend.url, key, tmp_path / "b", "--hypothesis-profile=table", "--require-observed=statuses"
        )
    assert plain.returncode == 0, plain.output[-2000:]
    assert plain.summary["observed"]["v3"]["statuses"]["missing"] == [409]
    assert strict.returncode == 7 and "409" in strict.output, strict.output[-2000:]
