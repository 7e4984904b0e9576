"""A run's result is a value: made once when the run ended, it is all the reports and the exit status read,
and nothing the `Run` does afterwards changes it. A run's reports have one writer and a text to scrub one
place where it is registered."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from fpjs_conformance import inprocess, options, plugin, reporting
from fpjs_conformance.commands import new_run
from fpjs_conformance.result import RunResult
from tests.runner import ROOT

TIMES = ("generated_at", "duration_s", "first_violation_s")


def as_written(model: dict, result: RunResult) -> dict:
    """The model as summary.json holds it (scrubbed, through JSON), without the times."""
    data = json.loads(reporting.to_json(reporting._deep(model, list(result.secrets))))
    return {k: v for k, v in data.items() if k not in TIMES}


@pytest.fixture(scope="module")
def ended(tmp_path_factory):
    """A short run of v4 against the bundled server, ended as the plugin ends one: (run, exit status)."""
    report_dir = tmp_path_factory.mktemp("result") / "reports"
    opts = options.parse({"api_version": "v4", "report_dir": str(report_dir)}.get, ROOT)
    return inprocess.judge(opts)


def test_the_reports_are_the_result_of_the_ended_run(ended):
    run, status = ended
    result = RunResult.of(run)
    model = reporting.collect(result, status)
    written = json.loads((run.options.report_dir / "summary.json").read_text(encoding="utf-8"))
    assert as_written(model, result) == {k: v for k, v in written.items() if k not in TIMES}
    assert plugin.exit_status(result, status, model) == status == model["exit_status"]
    assert [p.name for p in run.report_paths] == list(reporting.FILES)


def test_what_the_run_does_afterwards_changes_no_result(ended):
    run, status = ended
    result = RunResult.of(run)
    before = as_written(reporting.collect(result, status), result)
    lines = reporting.closing_lines(result)
    target = run.targets["v4"]
    cid = next(iter(target.ledger.clauses))
    target.ledger.skipped(cid, "a reason given after the end")
    target.ledger.clauses[cid].passed += 1
    target.ledger.failures.append({"clause": cid})
    run.plans["v4"]["sent"] = -1
    run.restores["v4"]["status"] = "changed afterwards"
    run.stop_with("stopped after the end", 1)
    run.add_secrets(["a-text-registered-after-the-end"])
    assert as_written(reporting.collect(result, status), result) == before
    assert reporting.closing_lines(result) == lines
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.stopped = "changed"  # type: ignore[misc]
    later = result.stopped_with("one more reason", 1)
    assert later.stopped.endswith("one more reason") and result.stopped != later.stopped


def test_the_options_secrets_are_registered_once_when_the_run_is_made(tmp_path):
    given = {
        "base_url": "http://user:pw-0123456789@127.0.0.1:9",
        "api_version": "v3",
        "api_key": "k-0123456789abcdef",
        "request_id": "1708102555327.NLOjmg",
        "report_dir": str(tmp_path),
    }
    run = new_run(options.parse(given.get, tmp_path))
    assert run.secrets == ["k-0123456789abcdef", "user:pw-0123456789", "pw-0123456789"]
    run.add_secrets(["pw-0123456789", None, "", "another-secret-text"])
    assert run.secrets == ["k-0123456789abcdef", "user:pw-0123456789", "pw-0123456789", "another-secret-text"]
    assert "k-0123456789abcdef" not in repr(RunResult.of(run))


def test_one_writer_of_the_reports_and_one_place_a_secret_is_registered():
    package = ROOT / "fpjs_conformance"
    calls = {p.name: p.read_text(encoding="utf-8") for p in package.rglob("*.py")}
    writers = sorted(name for name, text in calls.items() if re.search(r"(?<!def )\bwrite_all\(", text))
    assert writers == ["reporting.py"]
    assert re.findall(r"(?<!def )\bwrite_all\(", calls["reporting.py"]) == ["write_all("]  # in write_run alone
    registering = sorted(n for n, t in calls.items() if re.search(r"\.secrets\s*(\+=|\.append\(|\.extend\()", t))
    assert registering == ["run.py"]  # Run.add_secrets
