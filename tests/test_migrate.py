"""`fpjs-conformance migrate HAR --to v4`, and the proxy's client readiness.

The differences are the two profiles' (checked both ways: a stale kind and a missing one are refused); the
request mapping keeps every byte but the field names and the key (property tests); the answers of each
role differ only as documented. End to end, as the issue's "done when" has it: a v3 run of the table
against the bundled server, migrated to v4 against the bundled server, exits 0 and names exactly the
documented differences its traffic exercises; against a v4 server that kept v3's codes it fails and names
the codes; an undocumented change fails only with --fail-on-change (exit 8). A v3 client through the proxy
is told what it must change, in the same names, and its traffic migrates too.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpjs_conformance import changes, har, migrate, migrate_report, migration, traffic
from fpjs_conformance import profile as profiles
from fpjs_conformance.model import EMPTY, VALID, Body, Credential, Credentials, Exchange, Key, Request
from fpjs_conformance.profile import ROLES
from fpjs_conformance.refserver import Settings
from fpjs_conformance.refserver.app import DAY
from fpjs_conformance.refserver.launch import ServerProcess
from tests.harness import exposes
from tests.runner import ROOT, SUITE, clean_env, files_text, reference_server

TARGET = next(v for v in profiles.versions() if profiles.load(v).data.get("migration"))
M = migration.load(TARGET)
SOURCE = M.source.version
IDS = Settings()
TIMEOUT = 180  # seconds for one migration (about 180 requests on loopback, a busy 2-core machine)
EVENTS = (
    f"--request-id={IDS.request_id}",
    f"--expired-request-id={IDS.expired_for(M.target.update_window_days)}",
    f"--not-ready-request-id={IDS.not_ready_request_id}",
)


# -- the differences are the profiles' ----------------------------------------------------------------------
def test_the_documented_differences_are_the_profiles_differences():
    for kind, read in migration.FACTS.items():
        before, after = read(M.source), read(M.target)
        differing = {k for k in {*before, *after} if before.get(k) != after.get(k)}
        assert (
            {item for item, _, _ in M.differences[kind].items} == differing if differing else kind not in M.differences
        )
    for d in M.differences.values():
        assert d.sources and set(d.quotes) == set(d.sources) and all(d.quotes.values())


@pytest.fixture
def own_profiles(tmp_path, monkeypatch):
    """A folder of profile files of one's own ($FPJS_PROFILE_PATH), each standing in for the bundled one."""
    caches = (profiles.versions, profiles.load, migration.load)

    def use(text: str) -> None:
        (tmp_path / f"{TARGET}.toml").write_text(text)
        for cache in caches:
            cache.cache_clear()

    monkeypatch.setenv(profiles.PROFILE_PATH, str(tmp_path))
    yield use
    monkeypatch.delenv(profiles.PROFILE_PATH)
    for cache in caches:
        cache.cache_clear()


BUNDLED = (Path(str(profiles.data_dir())) / f"{TARGET}.toml").read_text()


WINDOW_DAYS = f"update_window_days = {M.target.update_window_days}"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("[migration.differences.window]", "[migration.differences.ignored-window]", "unknown kinds"),
        (WINDOW_DAYS, f"update_window_days = {M.source.update_window_days}", "window facts are the same"),
        ('side = "client"', 'side = "sideways"', "needs side"),
        ('side = "server"\nsource.v3', 'side = "server"\nsource.v3x', "a source is one of"),
        (
            'excerpt.v4 = "It\'s not possible to update events older than one month."',
            'excerpt.v4 = "Never."',
            "excerpt",
        ),
        ('source.v4 = "/servers/0/url"', 'source.v4 = "/servers/9/url"', "not in its document"),
    ],
)
def test_a_stale_or_unwritten_difference_is_refused(own_profiles, old, new, said):
    assert old in BUNDLED, old
    own_profiles(BUNDLED.replace(old, new, 1))
    with pytest.raises(migration.MigrationError, match=said):
        migration.load(TARGET)


def test_facts_that_differ_need_their_kind(own_profiles):
    start = BUNDLED.index("[migration.differences.window]")
    end = BUNDLED.index("\n[", start + 1) if "\n[" in BUNDLED[start + 1 :] else len(BUNDLED)
    own_profiles(BUNDLED[:start] + BUNDLED[end:])
    with pytest.raises(migration.MigrationError, match="window facts differ"):
        migration.load(TARGET)


# -- mapping a request ----------------------------------------------------------------------------------------
NAMES = sorted({*M.source.fields, *M.target.fields, *(n.upper() for n in M.source.fields), "x"})
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
OBJECTS = st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=10), JSON, max_size=6)
STYLES = st.sampled_from(
    [{}, {"ensure_ascii": False}, {"indent": 2}, {"separators": (",", ":")}, {"separators": (" , ", " : ")}]
)


@given(OBJECTS, STYLES)
def test_field_names_are_renamed_and_every_other_byte_kept(obj, style):
    raw = json.dumps(obj, **style).encode()
    new, done = migration.rename_keys(raw, M.renames)
    assert json.loads(new) == {M.renames.get(k, k): v for k, v in obj.items()}
    assert {old for old, _ in done} == set(obj) & set(M.renames)
    back = {new_name: old for old, new_name in M.renames.items()}
    assert migration.rename_keys(new, back)[0] == raw  # undone, the bytes are the bytes sent


@given(
    st.binary(max_size=200)
    | OBJECTS.map(lambda o: json.dumps(o).encode()).flatmap(lambda raw: st.integers(0, len(raw)).map(lambda n: raw[:n]))
)
def test_any_bytes_are_kept_unless_a_member_name_is_renamed(raw):
    """Bytes that are no object, or an object cut short: never an error; nothing renamed, nothing changed;
    what was renamed is undone by the reverse renames."""
    new, done = migration.rename_keys(raw, M.renames)
    if not done:
        assert new == raw
    back = {n: o for o, n in M.renames.items()}
    if b"\\" not in raw:  # an escaped name comes back unescaped
        assert migration.rename_keys(new, back)[0] == raw


def test_each_key_place_is_taken_to_the_successors_place():
    main = M.target.key_places[0]
    keys = (VALID, EMPTY, Key("near", "drop-last"), Key("literal", "not-a-key"))
    for place in M.source.key_places:
        for key in keys:
            assert migration.map_credentials(M, Credentials.of(**{place.name: key})) == Credentials.of(
                **{main.name: key}
            )
    every = Credentials(tuple(Credential(p.name, VALID) for p in M.source.key_places))
    assert migration.map_credentials(M, every) == Credentials.of(**{main.name: VALID})  # the same key: one
    if len(M.source.key_places) > 1:
        first, second = M.source.key_places[:2]
        differ = Credentials((Credential(first.name, VALID), Credential(second.name, Key("near", "drop-last"))))
        assert isinstance(migration.map_credentials(M, differ), str)  # no counterpart: listed, not sent


def test_a_key_under_a_name_that_is_no_key_place_keeps_its_wire_form():
    for place in M.source.key_places:
        miss = place.field + "x"
        mapped = migration.map_credentials(M, Credentials((Credential(place.name, VALID, name=miss),)))
        (cred,) = mapped.items
        target = M.target.place(cred.place)
        assert (cred.name, target.location, target.field.lower()) == (miss, place.location, place.field.lower())
    header = next(p for p in M.source.key_places if p.location == "header")
    read = Credentials((Credential(header.name, VALID, name=M.target.key_places[0].field),))
    assert isinstance(migration.map_credentials(M, read), str)  # the successor would read that name


def test_the_body_changes_only_in_its_field_names():
    """Top-level names renamed through the stored names; spacing, nesting and an escaped name kept as sent."""
    text, obj = M.source.fields_of_type("string")[0], M.source.fields_of_type("object")[0]
    template = '{ "%s":"a",  "%s" : {"%s": 1}, "\\u0078": true }'
    body = Body.decoded((template % (text, obj, text)).encode())
    mapped = migration.map_request(M, Request("e", body=body)).body
    assert mapped.raw == (template % (M.forward[text], M.forward[obj], text)).encode()
    assert mapped.json_value == {**M.target.to_wire(M.source.to_store(body.json_value)), "x": True}


# -- what an answer means ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_each_roles_own_answers_differ_only_as_documented(role):
    old, new = M.source.role(role), M.target.role(role)
    before = migration.meaning(M.source, old.status, old.code or None)
    after = migration.meaning(M.target, new.status, new.code or None)
    change = migration.server_change(M, before, after)
    if old.status == new.status:
        assert change is None
    else:
        assert change == (migration.ROLE_STATUS, f"{role}: {old.status} -> {new.status}", True)


@pytest.mark.parametrize("role", ROLES)
def test_the_older_code_under_the_successor_is_named(role):
    old, new = M.source.role(role), M.target.role(role)
    if not old.code or old.code in M.target.error_codes:
        pytest.skip("the code is the same in both versions")
    before = migration.meaning(M.source, old.status, old.code)
    kind, item, documented = migration.server_change(M, before, migration.meaning(M.target, new.status, old.code))
    assert (kind, documented) == (migration.UNKNOWN_CODE, False) and old.code in item


def test_an_event_the_successors_window_holds_is_accepted_as_documented():
    expired = M.source.role(migration.EXPIRED)
    before = migration.meaning(M.source, expired.status, expired.code)
    accepted = migration.meaning(M.target, 200, None)
    assert migration.server_change(M, before, accepted, moved_by_window=True)[::2] == (migration.WINDOW, True)
    assert migration.server_change(M, before, accepted)[::2] == (migration.OUTCOME, False)


def _record(version: str, request: Request, status: int, headers: dict, body: bytes) -> traffic.Record:
    ex = Exchange(request, "PUT", "http://127.0.0.1/x", {}, status=status, response_headers=headers, body=body)
    return traffic.Record(ex, "proxy", version)


def test_readiness_names_what_a_client_must_change():
    query = next(p for p in M.source.key_places if p.location == "query")
    limited = M.source.role("rate_limited")
    body = json.dumps({"error": {"code": limited.code, "message": "slow down"}}).encode()
    request = Request(IDS.request_id, Credentials.of(**{query.name: VALID}), Body.of({M.source.fields[0]: "x"}))
    records = [_record(SOURCE, request, limited.status, {"retry-after": "1"}, body)]
    found = changes.readiness(records, SOURCE)
    assert {k["kind"] for k in found["changes"]} == {
        migration.METHOD,
        migration.PATH,
        migration.FIELD,
        migration.KEY,
        migration.CODE,
        migration.RETRY,
    }
    assert found["needing_change"] == found["updates"] == 1
    assert changes.readiness(records, TARGET) is None


# -- end to end ---------------------------------------------------------------------------------------------
@dataclass
class Migrated:
    returncode: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def data(self) -> dict:
        return json.loads((self.report_dir / migrate_report.JSON_FILE).read_text(encoding="utf-8"))

    @property
    def summary(self) -> dict:
        return json.loads((self.report_dir / "summary.json").read_text(encoding="utf-8"))

    def named(self, key: str) -> dict[str, dict[str, int]]:
        """kind -> item -> count, of one side of the report."""
        return {k["kind"]: {i["item"]: i["count"] for i in k["items"]} for k in self.data[key]}


def migrate_cli(
    source: Path, report_dir: Path, *args: str, key: str | None = None, wrong: str | None = None
) -> Migrated:
    """The command as a user runs it (`python -m fpjs_conformance.migrate` is `fpjs-conformance migrate`); the
    keys by environment, as in CI."""
    cmd = [sys.executable, "-m", "fpjs_conformance.migrate", str(source), f"--to={TARGET}"]
    cmd += [f"--report-dir={report_dir}", *args]
    keys = {"FPJS_API_KEY": key, "FPJS_WRONG_REGION_API_KEY": wrong}
    env = clean_env(**{k: v for k, v in keys.items() if v})
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )
    return Migrated(proc.returncode, proc.stdout, proc.stderr, report_dir)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """`pytest --api-version=v3 --hypothesis-profile=table` against the bundled server: its traffic.har."""
    folder = tmp_path_factory.mktemp("recorded")
    cmd = [*SUITE, f"--api-version={SOURCE}", "--hypothesis-profile=table", f"--report-dir={folder}"]
    run = subprocess.run(cmd, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.stdout + run.stderr)[-2000:]
    return folder / har.FILE


def migrated_updates(source: Path) -> list[dict]:
    """The recorded updates a migration re-sends (as `replay_plan.plan` picks them), before any is left out."""
    return [
        e
        for e in har.read(source)
        if e["_fpjs"]["kind"] in ("coverage", "random", "replay", "proxy")
        and (e["_fpjs"]["request"] or {}).get("op") == "update"
        and not e["_fpjs"]["retried"]
    ]


def code_of(entry: dict) -> str | None:
    """The recorded answer's error code."""
    text = (entry["response"].get("content") or {}).get("text") or ""
    return Exchange(Request(""), "", "", {}, status=entry["response"]["status"], body=text.encode()).error_code()


def two_keys_differ(entry: dict) -> bool:
    creds = [c for c in entry["_fpjs"]["request"]["credentials"] if not c["name"]]
    return len({c["place"] for c in creds}) > 1 and len({json.dumps(c["key"]) for c in creds}) > 1


def unmapped(entry: dict) -> bool:
    """An update v4 has no counterpart for: different keys in v3's two places, a method the document does not
    declare (not the update at all), a key with white space around it (a header cannot carry it), and the
    other workspace's event (the migration was not given one)."""
    request = entry["_fpjs"]["request"]
    padded = any(c["key"]["kind"] == "padded" for c in request["credentials"])
    foreign = request["event"]["role"] == "foreign"
    return two_keys_differ(entry) or request.get("method") is not None or padded or foreign


def expected(entries: list[dict]) -> dict[str, Counter]:
    """The documented client-side kinds the entries exercise, item -> how many entries, read from the entries
    and the profiles. A field counts where the body is a JSON object holding it (a body that is no JSON text
    but names the field counts too in the report: the upper bound is `named_in_bytes`)."""
    out: dict[str, Counter] = {kind: Counter() for kind in (migration.METHOD, migration.PATH, migration.FIELD)}
    main = M.target.key_places[0]
    out[migration.KEY] = Counter()
    for e in entries:
        request = Request.from_record(e["_fpjs"]["request"])
        for kind in (migration.METHOD, migration.PATH):
            out[kind][migration._label(M, kind)] += 1
        body = request.body.json_value
        if isinstance(body, dict):
            out[migration.FIELD].update(f"{k} -> {M.forward[k]}" for k in body if k in M.forward)
        places = {M.source.place(c.place).describe() for c in request.credentials.items if not c.name}
        out[migration.KEY].update(f"{place} -> {main.describe()}" for place in places)
    return {k: v for k, v in out.items() if v}


def named_in_bytes(entries: list[dict], name: str) -> int:
    """Entries whose body holds the field, as a JSON object's member or as its name in bytes that are not JSON."""
    token, found = json.dumps(name).encode(), 0
    for e in entries:
        body = Request.from_record(e["_fpjs"]["request"]).body
        value = body.json_value
        found += (isinstance(value, dict) and name in value) or token in (body.encode() or b"")
    return found


def test_done_when_a_v3_run_migrates_to_v4_naming_each_documented_difference(recorded, tmp_path):
    """The issue's "done when": against the bundled server, exit 0, every documented difference the traffic
    exercises named with its count, nothing else."""
    done = migrate_cli(recorded, tmp_path / "out")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    data = done.data
    everything = migrated_updates(recorded)
    entries = [e for e in everything if not unmapped(e)]
    assert data["updates"] == {
        "migrated": len(entries),
        "sent": len(entries),
        "not_migrated": len(everything) - len(entries),
    }
    assert data["unexpected"] == [] and data["violated"] == []
    client, server = done.named("client"), done.named("server")
    want = expected(entries)
    for kind in (migration.METHOD, migration.PATH, migration.KEY):
        assert client[kind] == dict(want[kind]), kind
    assert set(client[migration.FIELD]) == set(want[migration.FIELD])
    for item, count in client[migration.FIELD].items():
        assert want[migration.FIELD][item] <= count <= named_in_bytes(entries, item.split(" -> ")[0]), item
    codes = client.pop(migration.CODE, {})
    assert set(client) == set(want)
    tried = [e for e in har.read(recorded) if e["_fpjs"]["retried"] and e["_fpjs"]["request"]["op"] == "update"]
    answered = Counter(code_of(e) for e in [*entries, *tried] if code_of(e) not in (None, *M.target.error_codes))
    assert {item.split(" -> ")[0]: n for item, n in codes.items()} == dict(answered)
    # The expired event of the v3 run: the reference server's youngest past v3's window. Its age says which
    # documented server-side difference its updates show under v4.
    expired = [e for e in entries if e["_fpjs"]["request"]["event"]["role"] == "expired"]
    age = next(s.age_seconds for s in IDS.seeded() if s.event_id == IDS.expired_for(M.source.update_window_days))
    kind = migration.WINDOW if age < M.target.update_window_days * DAY else migration.ROLE_STATUS
    assert {k: sum(v.values()) for k, v in server.items()} == ({kind: len(expired)} if expired else {})
    assert all(k["documented"] for side in ("client", "server") for k in data[side])
    assert sum(r["count"] for r in data["not_migrated"]) == len(everything) - len(entries)
    assert done.summary["result"] == "passed"
    markdown = (done.report_dir / migrate_report.MD_FILE).read_text()
    page = (done.report_dir / migrate_report.HTML_FILE).read_text()
    for kind in (*client, *server, migration.CODE):
        assert f"| {kind} |" in markdown and f"<td>{kind}</td>" in page
    assert "result passed (exit 0)" in done.stdout


def test_an_event_past_both_windows_is_refused_with_the_documented_status(recorded, tmp_path):
    """The issue's other example: the recorded updates of the expired event, made to name an event past v4's
    window too (the reference server's oldest): under v3 the expired role's answer, under v4 its own."""
    old, new = M.source.role(migration.EXPIRED), M.target.role(migration.EXPIRED)
    if old.status == new.status:
        pytest.skip("the expired role has the same status in both versions")
    data = json.loads(recorded.read_text(encoding="utf-8"))
    entries = [e for e in migrated_updates(recorded) if e["_fpjs"]["request"]["event"]["role"] == "expired"]
    oldest = IDS.expired_for(M.target.update_window_days)
    for e in entries:
        e["_fpjs"]["request"]["event"]["id"] = oldest
    data["log"]["entries"] = entries
    data["log"]["_fpjs"]["provenance"][SOURCE]["events"]["expired"] = oldest  # as if recorded with it
    source = tmp_path / "expired.har"
    source.write_text(json.dumps(data), encoding="utf-8")
    done = migrate_cli(source, tmp_path / "out")
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    assert entries and done.data["unexpected"] == []
    item = f"{migration.EXPIRED}: {old.status} -> {new.status}"
    assert done.named("server") == {migration.ROLE_STATUS: {item: len(entries)}}


@pytest.fixture(scope="module")
def previous_codes(recorded, tmp_path_factory) -> tuple[Migrated, Migrated]:
    """The migration against a v4 server that kept v3's codes, with and without --fail-on-change."""
    key, wrong = "mig" + secrets.token_hex(12), "migeu" + secrets.token_hex(12)
    out = []
    variant = ("-m", "tests.variants", "previous-version-codes")
    with reference_server(key, *variant, wrong_region_api_key=wrong) as server:
        base = server.url + M.target.server_path
        for flags in ((), ("--fail-on-change",)):
            folder = tmp_path_factory.mktemp("previous-codes")
            out.append(migrate_cli(recorded, folder, f"--base-url={base}", *EVENTS, *flags, key=key, wrong=wrong))
    for done in out:
        said = done.stdout + done.stderr + files_text(done.report_dir)
        assert not (exposes(said, key) or exposes(said, wrong)), "a key leaked"
    return out[0], out[1]


def test_a_v4_server_with_v3_codes_fails_and_the_codes_are_named(recorded, previous_codes):
    plain, failing = previous_codes
    assert plain.returncode != 0 and failing.returncode != 0, plain.stdout[-2000:]
    unexpected = failing.named("unexpected")
    named = {item.split(" ")[1].rstrip(":") for item in unexpected[migration.UNKNOWN_CODE]}
    entries = [e for e in migrated_updates(recorded) if not two_keys_differ(e)]
    entries += [e for e in har.read(recorded) if e["_fpjs"]["retried"]]  # the not-ready answers: not waited out now
    answered = {code_of(e) for e in entries if e["_fpjs"]["request"]["event"]["role"] != "expired"} - {None}
    assert named == {c for c in answered if c not in M.target.error_codes}
    for code in named:
        assert code in failing.stdout
    assert set(unexpected) == {migration.UNKNOWN_CODE}
    assert "UE-RESP-04" in {f["clause"] for f in failing.summary["failures"]}


@pytest.fixture(scope="module")
def empty_update_accepted(recorded, tmp_path_factory) -> tuple[Migrated, Migrated]:
    key = "mig" + secrets.token_hex(12)
    out = []
    with reference_server(key, "-m", "tests.variants", "empty-update-accepted") as server:
        for flags in ((), ("--fail-on-change",)):
            folder = tmp_path_factory.mktemp("empty-accepted")
            args = (f"--base-url={server.url}{M.target.server_path}", *EVENTS, *flags)
            out.append(migrate_cli(recorded, folder, *args, key=key))
    return out[0], out[1]


def test_an_undocumented_change_fails_only_with_fail_on_change(empty_update_accepted):
    """A correct v4 server that accepts what the v3 one refused (left open by both documents): no violation,
    one unexpected kind of change; exit 0, and 8 with --fail-on-change."""
    plain, failing = empty_update_accepted
    assert plain.returncode == 0, plain.stdout[-2000:]
    assert failing.returncode == 8, failing.stdout[-2000:]
    assert set(plain.named("unexpected")) == {migration.OUTCOME} and plain.data["violated"] == []
    assert all(item.endswith("-> 200 accepted") for item in plain.named("unexpected")[migration.OUTCOME])


def test_the_proxy_tells_a_v3_client_what_to_change_and_its_traffic_migrates(tmp_path):
    key = "px" + secrets.token_hex(12)
    report_dir = tmp_path / "proxy"
    query = next(p for p in M.source.key_places if p.location == "query")
    header = next(p for p in M.source.key_places if p.location == "header")
    path = M.source.server_path + M.source.path_for(M.source.update_path, IDS.request_id)
    values = {"string": "camel", "object": {"a": 1}, "boolean": False}
    camel = {f: values[t] for f, t in M.source.field_types.items()}
    with reference_server(key) as upstream:
        command = ["-m", "fpjs_conformance.proxy", f"--upstream={upstream.url}{M.source.server_path}"]
        command += [f"--api-version={SOURCE}", "--port=0", f"--report-dir={report_dir}"]
        with ServerProcess(command, env={"FPJS_API_KEY": key, "PYTHONPATH": str(ROOT)}, ready_timeout=60) as proxy:
            with httpx.Client(base_url=proxy.url, timeout=10) as client:
                assert (
                    client.request(M.source.update_method, path, params={query.field: key}, json=camel).status_code
                    == 200
                )
                sent = client.request(M.source.update_method, path, headers={header.field: key}, json={"x": 1})
                assert sent.status_code in M.source.role("empty_update").statuses
                assert client.request(M.source.read_back_method, path, headers={header.field: key}).status_code == 200
            proxy.proc.send_signal(signal.SIGTERM)
            assert proxy.proc.wait(timeout=60) == 0, proxy.stderr()[-2000:]
            said = proxy.stderr()
        summary = json.loads((report_dir / "summary.json").read_text())
        ready = summary["client_readiness"]
        kinds = {k["kind"]: {i["item"]: i["count"] for i in k["items"]} for k in ready["changes"]}
        main = M.target.key_places[0].describe()
        assert kinds[migration.KEY] == {f"{query.describe()} -> {main}": 1, f"{header.describe()} -> {main}": 1}
        assert kinds[migration.FIELD] == {f"{f} -> {M.forward[f]}": 1 for f in camel if f in M.forward}
        assert ready["updates"] == 2 and ready["needing_change"] == 2
        assert f"Client readiness for {TARGET}" in (report_dir / "summary.md").read_text()
        assert f"{query.describe()} -> {main}" in said
        assert not exposes(said + files_text(report_dir), key)
        done = migrate_cli(
            report_dir / har.FILE,
            tmp_path / "migrated",
            f"--base-url={upstream.url}{M.target.server_path}",
            *EVENTS,
            key=key,
        )
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    assert done.data["unexpected"] == [] and done.data["updates"]["sent"] == 2
    assert set(done.named("client")[migration.KEY]) == set(kinds[migration.KEY])
    stored = next(c for c in done.summary["clauses"] if c["id"] == "UE-SEM-01")["versions"][TARGET]
    assert stored["status"] == "passed"  # the accepted update's read-back compared under v4


def test_usage_errors_send_nothing(tmp_path, capsys):
    assert migrate._standalone([str(tmp_path / "none.har"), f"--to={SOURCE}"]) == 4
    assert "ERROR:" in capsys.readouterr().err
    only_target = {
        "log": {
            "entries": [{"_fpjs": {"version": TARGET, "kind": "coverage", "request": None}}],
            "_fpjs": {"provenance": {TARGET: {"events": {}}}},
        }
    }
    path = tmp_path / "t.har"
    path.write_text(json.dumps(only_target))
    assert migrate._standalone([str(path), f"--to={TARGET}", f"--report-dir={tmp_path / 'r'}"]) == 4
    err = capsys.readouterr().err
    assert f"no {SOURCE} update to migrate" in err and f"sent under {TARGET} already" in err
    assert not (tmp_path / "r").exists()
