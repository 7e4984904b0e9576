"""The mutation score: combine the per-variant results (written by each xdist worker) on the
controller, write reports/mutation-score.{json,md}, print it, and fail the session when a check
function (`fpjs_conformance.rules.check_functions()`) killed no mutant although the whole catalogue ran."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import time
from pathlib import Path

import pytest

from tests import harness
from tests.variants import load_all

SCORE_JSON = harness.ROOT / "reports" / "mutation-score.json"
SCORE_MD = harness.ROOT / "reports" / "mutation-score.md"
SCORE = pytest.StashKey[dict]()
RUN_DIR = pytest.StashKey[Path]()
STARTED = pytest.StashKey[float]()
WORKER_KEY = "fpjs_variant_results"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--end-to-end",
        action="store_true",
        default=False,
        help="self-test: judge every variant as a user runs the suite (a server process, `python -m pytest`), "
        "none in process",
    )
    parser.addoption(
        "--full-kill-matrix",
        action="store_true",
        default=False,
        help="kill matrix: both SIGTERM and SIGINT at every point (default: one per point, in turn)",
    )


def _controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    # One results folder per session, so concurrent sessions (and stale files) never mix.
    if _controller(config):
        config.stash[STARTED] = time.monotonic()
        config.stash[RUN_DIR] = harness.RESULTS_DIR / f"run-{secrets.token_hex(4)}"
    else:
        config.stash[RUN_DIR] = Path(config.workerinput[WORKER_KEY])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist, on the controller: tell each worker where this session's results go."""
    node.workerinput[WORKER_KEY] = str(node.config.stash[RUN_DIR])


@pytest.fixture
def results_dir(request: pytest.FixtureRequest) -> Path:
    """Where this session's per-variant results go (shared by all xdist workers)."""
    return request.config.stash[RUN_DIR]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    run_dir = config.stash.get(RUN_DIR, None)
    if not _controller(config) or run_dir is None or not run_dir.is_dir():
        return
    results = [json.loads(p.read_text()) for p in sorted(run_dir.glob("*.json"))]
    shutil.rmtree(run_dir, ignore_errors=True)
    with contextlib.suppress(OSError):
        run_dir.parent.rmdir()  # only when no other session is writing there
    if not results:
        return
    order = {"control": 0, "mutant": 1}
    data = harness.score(sorted(results, key=lambda r: (order[r["kind"]], r["name"], r["version"])), load_all())
    # The session this score comes from (scripts/bench.py reports it): its arguments and wall time so far.
    data["session"] = {
        "args": list(config.invocation_params.args),
        "workers": config.getoption("numprocesses", None),
        "wall_s": round(time.monotonic() - config.stash[STARTED], 1),
    }
    SCORE_JSON.parent.mkdir(parents=True, exist_ok=True)
    SCORE_JSON.write_text(json.dumps(data, indent=2))
    SCORE_MD.write_text(harness.markdown(data))
    config.stash[SCORE] = data
    if data["checks_that_killed_nothing"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    data = config.stash.get(SCORE, None)
    if data is None:
        return
    tr = terminalreporter
    tr.section("mutation score")
    text = harness.markdown(data).split("\n## ", 1)[0]  # the evidence of misses is in the Markdown file only
    for line in text.strip().splitlines()[2:]:
        tr.write_line(line)
    for r in data["variants"]:
        if r["verdict"] not in ("killed", "passed"):
            gap = " (known gap)" if r.get("known_gap") else ""
            tr.write_line(f"not right: {r['name']} [{r['version']}] {r['verdict']}{gap}, named {r['all_named']}")
    tr.write_line(f"written: {SCORE_JSON.relative_to(harness.ROOT)}, {SCORE_MD.relative_to(harness.ROOT)}")
    unused = data["checks_that_killed_nothing"]
    if unused:
        tr.write_line(f"FAILED: checks that killed no mutant: {', '.join(unused)}", red=True, bold=True)
    elif unused is None:
        tr.write_line("(not the whole catalogue ran: unused checks are not judged)")
