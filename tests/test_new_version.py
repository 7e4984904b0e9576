"""A new API version is data: a document, a profile file, and clause pointers, in a folder of your own.

A synthetic version is derived from v4 in a temporary folder: its servers end in another path, one
body field is renamed, its update window is longer, its expired events get a code of their own, and
its auth failures are 401 with codes of their own. The suite judges it beside v4 against the bundled
reference server (which serves every version it finds), and the mutants that apply are killed under
it. Nothing in fpjs_conformance/ knows it.
"""

import copy
import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fpjs_conformance import clauses
from fpjs_conformance import profile as profiles
from tests import harness
from tests.runner import ROOT, SUITE, clean_env
from tests.variants import load_all

BASE = "v4"
NEW = f"v{int(profiles.versions()[-1][1:]) + 1}"  # the next version number
FIELD, RENAMED = "linked_id", "linkage_id"
CODES = {"expired": "event_expired", "missing": "api_key_missing", "invalid": "api_key_invalid"}
# Mutants whose defect carries over to the synthetic version (each under its own clauses).
MUTANTS = (
    "wrong-key-missing-code",
    "auth-after-body",
    "null-accepted",
    "malformed-body-other-code",
    "update-not-stored",
    "object-merged",
    "expired-accepted",
    "retired-query-honoured",
)


def _rename(node):
    if isinstance(node, dict):
        return {(RENAMED if k == FIELD else k): _rename(v) for k, v in node.items()}
    if isinstance(node, list):
        return [RENAMED if v == FIELD else _rename(v) for v in node]
    return node


def document(base: profiles.Profile) -> dict:
    doc = _rename(copy.deepcopy(base.document))
    for server in doc["servers"]:
        server["url"] = re.sub(r"/v\d+$", f"/{NEW}", server["url"])
    doc["components"]["schemas"]["ErrorCode"]["enum"] += list(CODES.values())
    for ops in doc["paths"].values():
        for op in ops.values():
            responses = op.get("responses", {}) if isinstance(op, dict) else {}
            if "403" in responses:  # auth failures are 401 here, with the same error body
                responses["401"] = copy.deepcopy(responses["403"])
    return doc


def profile_text(base_version: str) -> str:
    text = (Path(str(profiles.data_dir())) / f"{base_version}.toml").read_text()
    text = text.split("\n[migration]\n", 1)[0] + "\n"  # migrates from nothing: its differences are not written
    missing, invalid = CODES["missing"], CODES["invalid"]
    replacements = {
        f'version = "{base_version}"': f'version = "{NEW}"',
        f'document = "fingerprint-server-api-{base_version}.yaml"': f'document = "fingerprint-server-api-{NEW}.yaml"',
        "update_window_days = 30": "update_window_days = 60",
        f'{FIELD} = "{FIELD}"': f'{RENAMED} = "{FIELD}"',
        f"{FIELD} = {{ max_chars": f"{RENAMED} = {{ max_chars",
        f'{FIELD} = ""': f'{RENAMED} = ""',
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    source = 'source = "document:/components/schemas/ErrorCode/enum"'  # a version of your own names its sources too
    roles = {
        "missing_key": f'{{ status = 401, codes = ["{missing}"], {source} }}',
        "wrong_key": f'{{ status = 401, codes = ["{invalid}"], {source} }}',
        "unreadable_key": f'{{ status = 401, codes = ["{invalid}", "{missing}"], {source} }}',
        "retired_key_place": f'{{ status = 401, codes = ["{missing}", "{invalid}"], {source} }}',
        "expired_event": f'{{ status = 400, codes = ["{CODES["expired"]}"], {source} }}',
    }
    for role, value in roles.items():
        text, n = re.subn(rf"^{role} = .*$", f"{role} = {value}", text, flags=re.M)
        assert n == 1, role
    text = re.sub(r"^400 = \[", f'400 = ["{CODES["expired"]}", ', text, flags=re.M)
    return text.replace("[status_codes]\n", f'[status_codes]\n401 = ["{missing}", "{invalid}"]\n', 1)


def pointers(base_version: str) -> str:
    """The new version's clauses.toml: the base version's pointers by `extends`, and its own only where the
    renamed field changes one."""
    lines = [f'extends = "{base_version}"', ""]
    for clause in clauses.catalogue().values():
        pointer = clause.pointers.get(base_version)
        if pointer is not None and FIELD in pointer:
            lines += [f"[{clause.id}]", f'spec.{NEW} = "{pointer.replace(FIELD, RENAMED)}"', ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("new-version")
    base = profiles.load(BASE)
    (path / f"fingerprint-server-api-{NEW}.yaml").write_text(yaml.safe_dump(document(base), sort_keys=False))
    (path / f"{NEW}.toml").write_text(profile_text(BASE))
    (path / "clauses.toml").write_text(pointers(BASE))
    return path


def test_the_synthetic_version_is_read_from_data_alone(folder):
    """Loaded in a process of its own: the profile cache of this one knows only the bundled versions."""
    probe = (
        f"from fpjs_conformance import profile as p; v = p.load({NEW!r}); "
        "print(v.server_path, v.fields[0], v.update_window_days, v.role('missing_key').status, "
        "v.role('expired_event').code, sorted(v.declared_statuses))"
    )
    env = {**os.environ, profiles.PROFILE_PATH: str(folder)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [
        f"/{NEW}",
        RENAMED,
        "60",
        "401",
        CODES["expired"],
        "[200,",
        "400,",
        "401,",
        "403,",
        "404,",
        "409]",
    ]


def test_the_synthetic_versions_operations_are_read_from_its_document(folder):
    """The update and its read-back are the new version's two operations, each read from its document (path,
    method, declared statuses, key places, schemas) and its profile file (the update's roles); every clause
    that applies to it judges one of them, and its pointers are into that operation."""
    probe = (
        "import json; from fpjs_conformance import clauses, profile as p; "
        f"v = p.load({NEW!r}); clauses.check_pointers({NEW!r}); "
        "print(json.dumps({'ops': {n: [o.path, o.method, sorted(o.declared_statuses), "
        "{r: [o.role(r).status, o.role(r).code] for r in o.roles}, [k.field for k in o.key_places], "
        "o.body_schema, o.response_schema_name] for n, o in v.operations.items()}, "
        f"'judged': sorted({{c.operation for c in clauses.catalogue().values() if c.applies_to({NEW!r})}})}}))"
    )
    env = {**os.environ, profiles.PROFILE_PATH: str(folder)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    found = __import__("json").loads(out.stdout)
    base = profiles.load(BASE)
    assert found["judged"] == sorted(base.operations) == ["read_back", "update"]
    for name, op in base.operations.items():
        path, method, statuses, roles, places, body, answer = found["ops"][name]
        assert (path, method, places, body, answer) == (
            op.path,
            op.method,
            [k.field for k in op.key_places],
            op.body_schema,
            op.response_schema_name,
        )
        # The synthetic document answers auth failures with 401 wherever the base version declares 403.
        assert statuses == sorted(op.declared_statuses | ({401} if 403 in op.declared_statuses else set()))
        assert set(roles) == set(op.roles)
    update = found["ops"]["update"][3]
    assert update["missing_key"] == [401, CODES["missing"]] and update["expired_event"] == [400, CODES["expired"]]
    assert update["bad_request"] == [base.role("bad_request").status, base.role("bad_request").code]


def test_a_clause_whose_text_is_another_operations_is_refused(folder, tmp_path):
    """A version's pointer for a read-back clause into the update's text is a catalogue error, before any
    request: the clause would quote one operation and judge the other."""
    update = profiles.load(BASE).update
    pointer = "/paths/" + update.path.replace("/", "~1") + "/" + update.method.lower()
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for path in folder.iterdir():
        (wrong / path.name).write_text(path.read_text())
    with (wrong / "clauses.toml").open("a") as fh:
        fh.write(f'\n[UE-STATE-03]\nspec.{NEW} = "{pointer}"\n')
    probe = (
        "from fpjs_conformance import clauses\n"
        f"try:\n    clauses.check_pointers({NEW!r})\nexcept clauses.CatalogueError:\n    print('refused')"
    )
    env = {**os.environ, profiles.PROFILE_PATH: str(wrong)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["refused"]


def test_a_version_of_any_name_extends_another_versions_pointers(folder, tmp_path):
    """A profile file under a name of its own is found, and `extends` gives it the base version's pointers."""
    named = tmp_path / "named"
    named.mkdir()
    for path in folder.iterdir():
        text = path.read_text().replace(f'version = "{NEW}"', 'version = "staging"')
        (named / path.name.replace(f"{NEW}.toml", "staging.toml")).write_text(text)
    probe = (
        "from fpjs_conformance import clauses, profile as p; "
        "print(p.versions()[-1], clauses.get('UE-AUTH-01').applies_to('staging'), "
        "clauses.get('UE-AUTH-05').applies_to('staging'))"
    )
    env = {**os.environ, profiles.PROFILE_PATH: str(named)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["staging", "True", "False"]  # AUTH-05 (the query key) is v3's alone


def test_auth_roles_that_share_a_code_must_share_its_status():
    """A version that moves one auth role to 401 and leaves another answering the same code with 403 is refused
    as it loads."""
    import tomllib

    data = tomllib.loads((Path(str(profiles.data_dir())) / f"{BASE}.toml").read_text())
    data["roles"]["missing_key"] = {**data["roles"]["missing_key"], "status": 401}
    data["status_codes"] = {**data.get("status_codes", {}), "401": data["roles"]["missing_key"]["codes"]}
    with pytest.raises(profiles.ProfileError, match="different statuses"):
        profiles.Profile(data)


def test_the_suite_judges_it_beside_the_base_version(folder, tmp_path):
    report_dir = tmp_path / "reports"
    env = clean_env(**{profiles.PROFILE_PATH: str(folder)})
    run = subprocess.run(
        [*SUITE, f"--api-version={BASE},{NEW}", "--hypothesis-profile=ci", f"--report-dir={report_dir}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    summary = __import__("json").loads((report_dir / "summary.json").read_text())
    statuses = {c["versions"][NEW]["status"] for c in summary["clauses"]}
    assert statuses <= {"passed", "not-applicable"}, statuses


@pytest.fixture
def known(folder, monkeypatch):
    """This process knows the synthetic version too, for the harness's own reading of the reports."""
    caches = (profiles.versions, profiles.load, clauses.catalogue)
    monkeypatch.setenv(profiles.PROFILE_PATH, str(folder))
    for cache in caches:
        cache.cache_clear()
    yield folder
    monkeypatch.delenv(profiles.PROFILE_PATH)
    for cache in caches:
        cache.cache_clear()


@pytest.mark.parametrize("name", MUTANTS)
def test_the_mutants_that_apply_are_killed_under_it(known, tmp_path, name):
    variant = dataclasses.replace(load_all()[name], versions=(NEW,))
    (outcome,) = harness.run(variant, tmp_path / "report", env={profiles.PROFILE_PATH: str(known)})
    assert outcome.verdict == "killed", (outcome.verdict, outcome.all_named, outcome.evidence)
