"""The composite action (action.yml): its interface, no template injection, and its `run:` steps run
locally in order, as GitHub's runner would run them, against the bundled reference server.

GitHub's part is emulated: a fresh GITHUB_OUTPUT, GITHUB_ENV and GITHUB_STEP_SUMMARY per step, the
step's `env:` with its `${{ }}` expressions evaluated (by a small evaluator of the expression
language the action uses), `if:` conditions, `shell: bash` as `bash --noprofile --norc -eo pipefail`.
`uses:` steps are not run: actions/cache is a folder of saved copies here (so the baseline round
trip is real), actions/setup-python and actions/upload-artifact are recorded with their `with:`. The
install step is skipped: the suite is installed in this venv already.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.runner import IDS, ROOT, clean_env, throwaway_reference_server

ACTION = ROOT / "action.yml"
UNKNOWN_EVENT = "1000000000000.unknwn"
SECRET_INPUTS = ("api-key", "request-id", "expired-request-id", "not-ready-request-id", "wrong-region-api-key")


def load_action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


# -- the interface ---------------------------------------------------------------------------------
def test_inputs_outputs_and_defaults():
    action = load_action()
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    defaults = {
        "api-version": "v4",
        "hypothesis-profile": "ci",
        "baseline": "",
        "fail-on-drift": "false",
        "report-dir": "reports",
        "python-version": "3.11",
        "artifact-name": "conformance-reports",
        "keep-baseline": "true",
    }
    for name in ("base-url", "region", *SECRET_INPUTS, *defaults):
        assert name in inputs, name
        assert inputs[name].get("description"), name
    for name, default in defaults.items():
        assert str(inputs[name].get("default")) == default, name
    assert {"exit-code", "result", "report-dir"} <= set(action["outputs"])
    ids = [step.get("id") for step in action["runs"]["steps"]]
    assert {"install", "run"} <= set(ids)


def test_no_template_injection_and_secrets_only_in_the_run_step():
    steps = load_action()["runs"]["steps"]
    for step in steps:
        if "run" in step:
            assert "${{" not in step["run"], f"an expression inside the script of {step.get('name')!r}"
            assert step.get("shell") == "bash", step.get("name")
    for step in steps:
        text = yaml.safe_dump({k: v for k, v in step.items() if k != "env"} if step.get("id") == "run" else step)
        for name in SECRET_INPUTS:
            assert f"inputs.{name}" not in text, f"inputs.{name} outside the run step's env ({step.get('name')!r})"
    run_env = next(step for step in steps if step.get("id") == "run")["env"]
    assert run_env["FPJS_API_KEY"] == "${{ inputs.api-key }}"
    assert run_env["FPJS_REQUEST_ID"] == "${{ inputs.request-id }}"


def test_third_party_actions_are_pinned_by_commit():
    lines = [line for line in ACTION.read_text(encoding="utf-8").splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert lines
    for line in lines:
        assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d", line), line


def test_nightly_runs_the_action():
    nightly = yaml.safe_load((ROOT / ".github/workflows/nightly.yml").read_text(encoding="utf-8"))
    steps = nightly["jobs"]["conformance"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert uses[0].startswith("actions/checkout@")
    assert steps[0]["with"]["persist-credentials"] is False
    suite = next(step for step in steps if step.get("uses") == "./")
    assert set(suite["with"]) <= set(load_action()["inputs"])
    assert "run" not in suite


# -- a small evaluator of GitHub's expression language (the part the action uses) ------------------
TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>&&|\|\||==|!=|<=|>=|[!<>(),])"
    r"|(?P<name>[A-Za-z_][\w-]*(?:\.[A-Za-z_*][\w-]*)*))"
)


class Expressions:
    """Evaluates `${{ }}` expressions over the contexts given (nested dicts), GitHub's way: `&&` and `||`
    give an operand, strings compare case-insensitively, a missing property is null."""

    def __init__(self, contexts: dict[str, Any], *, failed: bool = False):
        self.contexts, self.failed = contexts, failed

    def evaluate(self, text: str) -> Any:
        self.tokens, self.pos = self._tokenize(text), 0
        value = self._or()
        assert self.pos == len(self.tokens), f"cannot parse {text!r}"
        return value

    def expand(self, text: str) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: self.to_string(self.evaluate(m.group(1))), str(text))

    @staticmethod
    def to_string(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return value if isinstance(value, str) else json.dumps(value)

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while text[pos:].strip():
            match = TOKEN.match(text, pos)
            assert match, f"cannot tokenize {text[pos:]!r}"
            kind = match.lastgroup
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.pos]
        assert expected is None or token[1] == expected, f"expected {expected!r}, got {token[1]!r}"
        self.pos += 1
        return token

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            value = right if truthy(value) else value
        return value

    def _compare(self) -> Any:
        value = self._unary()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            same = equal(value, self._unary())
            return same if op == "==" else not same
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            value = self._or()
            self._take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self._peek() == "(":
            self._take("(")
            args = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._take(",")
            self._take(")")
            return self._call(text, args)
        value: Any = self.contexts
        for part in text.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def _call(self, name: str, args: list[Any]) -> Any:
        functions = {
            "always": lambda: True,
            "success": lambda: not self.failed,
            "failure": lambda: self.failed,
            "cancelled": lambda: False,
            "fromjson": lambda text: json.loads(text),
            "contains": lambda haystack, needle: (
                any(equal(item, needle) for item in haystack)
                if isinstance(haystack, list)
                else self.to_string(needle).lower() in self.to_string(haystack).lower()
            ),
        }
        assert name.lower() in functions, f"the test's evaluator has no {name}()"
        return functions[name.lower()](*args)


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def equal(a: Any, b: Any) -> bool:
    """GitHub's loose equality: strings case-insensitively; values of different types as numbers."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b):
        return a == b
    return number(a) == number(b)  # NaN equals nothing


def number(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else math.nan
    except ValueError:
        return math.nan


def test_the_evaluator():
    ex = Expressions({"inputs": {"x": "true", "empty": ""}, "steps": {"run": {"outputs": {"exit-code": "7"}}}})
    assert ex.evaluate("inputs.x == 'TRUE' && inputs.empty == ''") is True
    assert ex.evaluate('contains(fromJSON(\'["0", "1", "7", "8"]\'), steps.run.outputs.exit-code)') is True
    # A step that did not run has no outputs: null, which GitHub compares as 0 ('0' too).
    assert ex.evaluate("contains(fromJSON('[\"0\"]'), steps.none.outputs.exit-code)") is True
    assert ex.evaluate("steps.none.outputs.keep-snapshot == 'true'") is False
    assert ex.evaluate("inputs.empty || 'fallback'") == "fallback"
    assert ex.expand("a-${{ inputs.x }}-${{ inputs.missing }}-b") == "a-true--b"


# -- running the steps -----------------------------------------------------------------------------
GITHUB_FILES = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")  # a fresh one per step
STATUS_FUNCTIONS = re.compile(r"\b(always|success|failure|cancelled)\s*\(", re.IGNORECASE)


def read_outputs(path: Path) -> dict[str, str]:
    """A GITHUB_OUTPUT (or GITHUB_ENV) file: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs, lines = {}, path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        outputs[name] = value
        i += 1
    return outputs


def bash(script: Path, *, env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """`shell: bash` as the runner runs it; the whole process group is killed on a timeout."""
    proc = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"{script.name} ran longer than {timeout}s:\n{out[-2000:]}\n{err[-2000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class Runner:
    """One job's workspace and runner folders; `run_action` runs the action's steps in it."""

    def __init__(self, root: Path):
        self.root = root
        self.workspace = root / "workspace"
        self.workspace.mkdir()
        self.temp = root / "runner-temp-0"  # RUNNER_TEMP of the latest run
        self.saved: list[tuple[str, Path]] = []  # actions/cache: (key, a saved copy), oldest first
        self.runs = 0

    def run_action(self, inputs: dict[str, str]) -> dict[str, Any]:
        self.runs += 1
        self.temp = self.root / f"runner-temp-{self.runs}"  # the runner's temp folder is new for every job
        self.temp.mkdir()
        action = load_action()
        given = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
        unknown = set(inputs) - set(given)
        assert not unknown, f"not inputs of the action: {unknown}"
        given.update(inputs)
        contexts: dict[str, Any] = {
            "inputs": given,
            "github": {"action_path": str(ROOT), "run_id": str(1000 + self.runs), "run_attempt": "1", "job": "gate"},
            "runner": {"temp": str(self.temp)},
            "steps": {},
        }
        base_env = {k: v for k, v in clean_env().items() if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_"))}
        base_env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{base_env.get('PATH', '')}",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_ACTION_PATH=str(ROOT),
            GITHUB_JOB="gate",
            GITHUB_RUN_ID=str(1000 + self.runs),
            RUNNER_TEMP=str(self.temp),
            RUNNER_OS="Linux",
        )
        failed, record = False, {"steps": [], "uses": {}, "summary": "", "stdout": "", "stderr": ""}
        for n, step in enumerate(action["runs"]["steps"]):
            ex = Expressions(contexts, failed=failed)
            condition = str(step.get("if", "success()"))
            condition = re.sub(r"^\$\{\{(.*)\}\}$", r"\1", condition.strip())
            if not STATUS_FUNCTIONS.search(condition):
                condition = f"success() && ({condition})"
            name = step.get("id") or f"step{n}"
            if not truthy(ex.evaluate(condition)):
                record["steps"].append((name, "skipped"))
                continue
            if "uses" in step:
                outputs = self._uses(step, ex, record)
                contexts["steps"][name] = {"outputs": outputs, "outcome": "success", "conclusion": "success"}
                record["steps"].append((name, "success"))
                continue
            if step.get("id") == "install":  # this venv has the suite installed already (editable)
                contexts["steps"][name] = {"outputs": {"python": sys.executable}, "outcome": "success"}
                record["steps"].append((name, "skipped"))
                continue
            assert step.get("shell") == "bash"
            files = {var: self.temp / f"_{var.lower()}_{n}" for var in GITHUB_FILES}
            for path in files.values():
                path.touch()
            script = self.temp / f"_step_{n}.sh"
            script.write_text(step["run"], encoding="utf-8")
            env = {**base_env, **{k: str(v) for k, v in files.items()}}
            env.update({k: ex.expand(v) for k, v in (step.get("env") or {}).items()})
            timeout = 600 if step.get("id") == "run" else 120
            proc = bash(script, env=env, cwd=self.workspace, timeout=timeout)
            outcome = "success" if proc.returncode == 0 else "failure"
            failed = failed or proc.returncode != 0
            outputs = read_outputs(files["GITHUB_OUTPUT"])
            contexts["steps"][name] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
            base_env.update(read_outputs(files["GITHUB_ENV"]))
            record["summary"] += files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
            record["stdout"] += proc.stdout
            record["stderr"] += proc.stderr
            record["steps"].append((name, outcome))
            record[name] = {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
            record[name]["outputs"] = outputs
        ex = Expressions(contexts, failed=failed)
        record["outputs"] = {k: ex.expand(v["value"]) for k, v in action["outputs"].items()}
        record["failed"] = failed
        return record

    def _uses(self, step: dict, ex: Expressions, record: dict) -> dict[str, str]:
        """Record a `uses:` step's `with:` (the latest of each action under its name, every one under
        "all"), act as it would where it matters here; its outputs."""
        action = step["uses"].split("@", 1)[0]
        with_ = {k: ex.expand(v) for k, v in (step.get("with") or {}).items()}
        record["uses"][action] = with_
        record.setdefault("all_uses", []).append((action, with_))
        if action == "actions/setup-python":  # this interpreter, the environment left alone
            return {"python-path": sys.executable, "python-version": "{}.{}".format(*sys.version_info[:2])}
        if action == "actions/cache/save":
            if Path(with_["path"]).is_dir():  # the pip cache: the install step is not run here
                copy = self.root / f"cache-{len(self.saved)}"
                shutil.copytree(with_["path"], copy)
                self.saved.append((with_["key"], copy))
        elif action == "actions/cache/restore":
            # The exact key, else the newest entry whose key starts with a restore key.
            exact = [copy for key, copy in self.saved if key == with_["key"]]
            prefixed = [
                copy
                for prefix in with_.get("restore-keys", "").split()
                for key, copy in reversed(self.saved)
                if key.startswith(prefix)
            ]
            if exact or prefixed:
                shutil.copytree((exact or prefixed)[0], with_["path"], dirs_exist_ok=True)
            return {"cache-hit": "true" if exact else "false"}
        return {}


def all_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


def assert_no_secret(runner: Runner, records: list[dict], *secrets: str) -> None:
    written = all_text(runner.root)
    said = "\n".join(r["stdout"] + r["stderr"] + json.dumps(r["outputs"]) + json.dumps(r["uses"]) for r in records)
    for secret in secrets:
        assert secret not in written, "a secret in a file the action wrote"
        assert secret not in said, "a secret in the action's output"


def baseline_cache(record: dict, action: str) -> list[dict]:
    """The uses of `action` (cache restore or save) for the behaviour snapshot (not the pip cache)."""
    return [w for a, w in record.get("all_uses", []) if a == action and w["key"].startswith("fpjs-behaviour-")]


def test_the_action_passes_a_correct_server_and_keeps_the_baseline(tmp_path):
    runner = Runner(tmp_path)
    # The calling repository's pytest configuration stays out of the suite's run.
    (runner.workspace / "conftest.py").write_text('raise RuntimeError("the workspace conftest.py was loaded")\n')
    (runner.workspace / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option\n")
    with throwaway_reference_server("action-") as (server, key, wrong_region_key):
        inputs = {
            "base-url": server.url + "/v4",
            "api-key": key,
            "request-id": IDS.request_id,
            "expired-request-id": IDS.expired_request_id,
            "not-ready-request-id": IDS.not_ready_request_id,
            "wrong-region-api-key": wrong_region_key,
            # the default profile, ci: `table` alone leaves the schemathesis clauses unexercised (incomplete)
        }
        first = runner.run_action(inputs)
        second = runner.run_action({**inputs, "hypothesis-profile": "table", "report-dir": "reports/second"})

    run = first["run"]
    assert run["returncode"] == 0, run["stdout"][-3000:] + run["stderr"][-3000:]
    assert not first["failed"], first["steps"]
    report_dir = runner.workspace / "reports"
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    assert run["outputs"]["exit-code"] == "0"
    assert run["outputs"]["result"] == summary["result"] == "passed"
    assert first["outputs"] == {"exit-code": "0", "result": "passed", "report-dir": str(report_dir)}
    assert (report_dir / "summary.md").read_text(encoding="utf-8") in first["summary"]
    assert first["uses"]["actions/upload-artifact"]["path"] == str(report_dir)
    assert first["uses"]["actions/upload-artifact"]["name"] == "conformance-reports"
    assert baseline_cache(first, "actions/cache/restore"), first["steps"]
    assert baseline_cache(first, "actions/cache/save"), first["steps"]

    # The second run found the first one's behaviour as its baseline (through the cache) and compared.
    second_dir = runner.workspace / "reports" / "second"
    assert second["run"]["returncode"] in (0, 7), second["run"]["stdout"][-3000:]
    second_summary = json.loads((second_dir / "summary.json").read_text(encoding="utf-8"))
    assert second_summary.get("drift") is not None, "the kept baseline was not passed to the second run"
    assert summary.get("drift") is None  # the first run had none
    assert_no_secret(runner, [first, second], key, wrong_region_key)


def test_a_setup_problem_fails_the_step_with_exit_6_and_an_error_line(tmp_path):
    runner = Runner(tmp_path)
    with throwaway_reference_server("action-") as (server, key, _wrong):
        inputs = {"base-url": server.url, "api-version": "v3", "api-key": key, "request-id": UNKNOWN_EVENT}
        record = runner.run_action({**inputs, "hypothesis-profile": "table"})
    run = record["run"]
    assert run["returncode"] == 6, run["stdout"][-3000:] + run["stderr"][-3000:]
    assert record["failed"]
    assert run["outputs"]["exit-code"] == "6"
    assert record["outputs"]["exit-code"] == "6"
    summary = json.loads((runner.workspace / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_status"] == 6
    assert record["outputs"]["result"] == summary["result"]
    stopped = summary["stopped"].replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    lines = run["stdout"].splitlines()
    assert f"::error title=Setup problem::{stopped}" in lines, run["stdout"][-3000:]
    # The error line is read as a command: it comes after the target's text was fenced off and let go.
    resume = next(i for i, line in enumerate(lines) if re.fullmatch(r"::[0-9a-f]{32}::", line))
    assert lines.index(f"::error title=Setup problem::{stopped}") > resume
    # The job summary and the upload still ran; no behaviour is kept after a setup problem.
    steps = dict(record["steps"])
    assert (runner.workspace / "reports" / "summary.md").read_text(encoding="utf-8") in record["summary"]
    assert "actions/upload-artifact" in record["uses"]
    assert not baseline_cache(record, "actions/cache/save"), steps
    assert not (runner.temp / "fpjs-conformance" / "baseline" / "behaviour.json").exists()
    assert_no_secret(runner, [record], key)


# -- an explicit target, a lock, a cache, the caller's Python left alone ---------------------------------------
def test_an_empty_target_is_a_usage_error_unless_bundled_is_asked_for(tmp_path):
    """Empty base-url and region (a fork's pull request has no secrets): exit 4 before the suite runs.
    `bundled: true` runs the bundled reference server; with a target too it is a usage error."""
    runner = Runner(tmp_path)
    empty = runner.run_action({})
    assert empty["failed"] and empty["prepare"]["returncode"] == 4
    assert "run" not in empty, empty["steps"]
    assert not (runner.workspace / "reports" / "summary.json").exists()
    both = runner.run_action({"bundled": "true", "region": "eu"})
    assert both["failed"] and both["prepare"]["returncode"] == 4
    bundled = runner.run_action({"bundled": "true", "api-version": "v4", "hypothesis-profile": "table"})
    run = bundled["run"]
    assert run["returncode"] == 0, run["stdout"][-3000:] + run["stderr"][-3000:]
    summary = json.loads((runner.workspace / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["versions"][0]["embedded"] is True


def pinned(path: Path) -> dict[str, str]:
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            names[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.strip()
    return names


def test_the_suite_installs_from_the_lock_with_a_cache_into_its_own_environment():
    import tomllib

    steps = {step.get("id") or step.get("name"): step for step in load_action()["runs"]["steps"]}
    python = steps["python"]
    assert python["uses"].startswith("actions/setup-python@")
    assert python["with"]["update-environment"] is False  # the caller's PATH and Python stay as they were
    install = steps["install"]["run"]
    assert "constraints.txt" in install and " -m venv " in install and "--cache-dir" in install
    assert steps["run"]["env"]["PYTHON"] == "${{ steps.install.outputs.python }}"
    caches = [s for s in steps.values() if s.get("uses", "").startswith("actions/cache/")]
    assert {s["with"]["key"] for s in caches} >= {"${{ steps.prepare.outputs.pip-key }}"}
    # The lock pins every dependency the project declares (runtime and dev), each to one version.
    lock = pinned(ROOT / "constraints.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    for requirement in declared:
        name = re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower())
        assert lock.get(name), f"{name} is not pinned in constraints.txt"
    # The workflows install with it too.
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        text = workflow.read_text(encoding="utf-8")
        for line in text.splitlines():
            if "pip install" in line and not line.strip().startswith("#"):
                assert "-c constraints.txt" in line, f"{workflow.name}: {line.strip()}"


def test_the_nightly_judges_both_versions_of_a_region_in_one_process_and_keeps_cancelled_reports():
    nightly = yaml.safe_load((ROOT / ".github/workflows/nightly.yml").read_text(encoding="utf-8"))
    job = nightly["jobs"]["conformance"]
    assert "version" not in job["strategy"]["matrix"]  # a leg per region: one process, one restore per event
    suite = next(step for step in job["steps"] if step.get("uses") == "./")
    assert suite["with"]["api-version"] == "v3,v4"
    kept = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert kept and all("cancelled()" in s["if"] or "always()" in s["if"] for s in kept)
    assert any(s["with"]["path"] == suite["with"]["report-dir"] for s in kept)
