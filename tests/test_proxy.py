"""The validation proxy (`fpjs-conformance proxy`): real clients' traffic, judged as it passes.

Each session is the reference server (or a mutant of it) with throwaway keys, and the proxy in front of
it as a user starts it (`python -m fpjs_conformance.proxy`, the key in FPJS_API_KEY, never in argv),
stopped with SIGTERM. The official SDKs (Python v3 8.x, Python v4 9.x, Node v4 7.x) and a hand-made
httpx client talk to the proxy; what it found is read from its reports (summary.json, traffic.har),
never from its terminal text, except the one line per violation it prints as it finds one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import shutil
import signal
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from fpjs_conformance import clauses, codec, commands, options, reporting
from fpjs_conformance import profile as profiles
from fpjs_conformance import proxy as proxy_module
from fpjs_conformance.model import EMPTY, NEAR_MISSES, READ, VALID, Body, Credential, Credentials, Exchange, Key
from fpjs_conformance.model import Request as SymbolicRequest
from fpjs_conformance.refserver import Settings
from fpjs_conformance.refserver.launch import ServerProcess
from fpjs_conformance.result import RunResult
from fpjs_conformance.rules import client
from tests.runner import ROOT, files_text, reference_server

IDS = Settings()
UNKNOWN_ID = "1000000000000.unknwn"
TIMEOUT = 10  # seconds per client call
STOP_TIMEOUT = 60  # seconds the proxy may take to finish and write its reports after SIGTERM
NODE = shutil.which("node")
NODE_DIR = ROOT / "tests" / "node"
NODE_SDK = NODE_DIR / "node_modules" / "@fingerprint" / "node-sdk" / "package.json"


# -- a proxy session ---------------------------------------------------------------------------------
@dataclass
class Session:
    """The upstream (reference server or mutant), the proxy in front of it, and what it wrote."""

    upstream: ServerProcess
    proxy: ServerProcess
    version: str
    api_key: str
    wrong_region_api_key: str
    report_dir: Path
    returncode: int | None = None
    said: list[str] = field(default_factory=list)  # every string a client sent: must not leak either

    @property
    def profile(self) -> profiles.Profile:
        return profiles.load(self.version)

    @property
    def base_url(self) -> str:
        """Where clients point: the proxy, with the upstream's path (`/v4` for v4)."""
        return self.proxy.url + self.profile.server_path

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """SIGTERM, as CI and `timeout` send it (or SIGINT, Ctrl-C): the proxy writes its reports, exits 0 or 1."""
        if self.returncode is None:
            self.proxy.proc.send_signal(signum)
            self.returncode = self.proxy.proc.wait(timeout=STOP_TIMEOUT)
        return self.returncode

    @property
    def stderr(self) -> str:
        return self.proxy.stderr()

    @property
    def summary(self) -> dict:
        return json.loads((self.report_dir / "summary.json").read_text(encoding="utf-8"))

    def statuses(self) -> dict[str, str]:
        return {c["id"]: c["versions"][self.version]["status"] for c in self.summary["clauses"]}

    def failed(self) -> set[str]:
        return {cid for cid, status in self.statuses().items() if status == "failed"}

    def failures(self, clause_id: str) -> list[dict]:
        return [f for f in self.summary["failures"] if f["clause"] == clause_id]

    def har(self) -> list[dict]:
        return json.loads((self.report_dir / "traffic.har").read_text(encoding="utf-8"))["log"]["entries"]

    def assert_no_secret(self) -> None:
        """No key (nor a wrong key a client sent) in any report or anything the proxy printed."""
        text = files_text(self.report_dir) + self.stderr
        for secret in (self.api_key, self.wrong_region_api_key, *self.said):
            assert secret not in text, f"a key leaked: {secret[:4]}..."


@contextlib.contextmanager
def session(
    tmp_path: Path, version: str, variant: str | None = None, *, with_key: bool = True, key: str | None = None
) -> Iterator[Session]:
    """A reference server (or `variant`) and the proxy in front of it; the proxy is stopped (SIGTERM) at the
    latest on the way out, every process by its PID. `key`: the API key (default: a throwaway one)."""
    key, wrong = key or "px" + secrets.token_hex(12), "pxeu" + secrets.token_hex(12)
    args = ("-m", "tests.variants", variant) if variant else ()
    report_dir = tmp_path / f"proxy-{version}"
    with reference_server(key, *args, wrong_region_api_key=wrong) as upstream:
        command = [
            "-m",
            "fpjs_conformance.proxy",
            f"--upstream={upstream.url}{profiles.load(version).server_path}",
            f"--api-version={version}",
            "--port=0",
            f"--report-dir={report_dir}",
        ]
        env = {"FPJS_API_KEY": key if with_key else "", "PYTHONPATH": str(ROOT)}
        with ServerProcess(command, env=env, ready_timeout=60) as proxy:
            s = Session(upstream, proxy, version, key, wrong, report_dir)
            try:
                yield s
            finally:
                s.stop()


def wrong_key() -> str:
    return "client-not-a-key-" + secrets.token_hex(8)


def judged_exchanges(s: Session) -> list[dict]:
    entries = s.har()
    assert entries and {e["_fpjs"]["kind"] for e in entries} == {"proxy"}
    return entries


# -- the SDKs -----------------------------------------------------------------------------------------
def v3_api(s: Session, key: str | None = None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        fp = pytest.importorskip("fingerprint_pro_server_api_sdk")
    cfg = fp.Configuration(api_key=s.api_key if key is None else key)
    cfg.host = s.base_url
    return fp, fp.FingerprintApi(cfg)


def v4_api(s: Session, key: str | None = None):
    fs = pytest.importorskip("fingerprint_server_sdk")
    from fingerprint_server_sdk.configuration import Region

    prefix = urlsplit(fs.Configuration.get_host(Region.US)).path  # `/v4`: the SDK appends /events/...
    cfg = fs.Configuration(api_key=s.api_key if key is None else key, host=s.proxy.url + prefix)
    return fs, fs.FingerprintApi(cfg)


def node(s: Session, *calls: dict) -> list[dict]:
    """Node SDK calls through tests/node/interop.mjs, its `fetch` sending to the proxy (keys via stdin)."""
    if NODE is None or not NODE_SDK.is_file():
        pytest.skip("needs `node` and `npm ci --prefix tests/node`")
    plan = {"target": s.proxy.url, "apiKey": s.api_key, "calls": list(calls)}
    done = subprocess.run(
        [NODE, str(NODE_DIR / "interop.mjs")],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=NODE_DIR,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def v3_calls(s: Session) -> int:
    """What an application does with the v3 SDK: updates, a read-back, a wrong key, an unknown event.
    The number of requests it sent."""
    fp, api = v3_api(s)
    from fingerprint_pro_server_api_sdk.rest import KnownApiException

    api.update_event(fp.EventsUpdateRequest(linked_id="proxy-v3", suspect=False), IDS.request_id, _request_timeout=10)
    api.update_event(fp.EventsUpdateRequest(tag={"order": {"id": 7}}), IDS.request_id, _request_timeout=10)
    event = api.get_event(IDS.request_id, _request_timeout=10)
    assert event.products.identification.data.linked_id == "proxy-v3"
    wrong = wrong_key()
    s.said.append(wrong)
    _, bad = v3_api(s, wrong)
    with pytest.raises(KnownApiException) as refused:
        bad.update_event(fp.EventsUpdateRequest(linked_id="never"), IDS.request_id, _request_timeout=10)
    assert refused.value.status == 403
    with pytest.raises(KnownApiException) as unknown:
        api.update_event(fp.EventsUpdateRequest(linked_id="x"), UNKNOWN_ID, _request_timeout=10)
    assert unknown.value.status == 404
    return 5


def v4_calls(s: Session) -> int:
    fs, api = v4_api(s)
    api.update_event(IDS.request_id, fs.EventUpdate(linked_id="proxy-v4", tags={"a": [1, None]}), _request_timeout=10)
    api.update_event(IDS.request_id, fs.EventUpdate(suspect=True), _request_timeout=10)
    event = api.get_event(IDS.request_id, _request_timeout=10)
    assert (event.linked_id, event.suspect) == ("proxy-v4", True)
    wrong = wrong_key()
    s.said.append(wrong)
    _, bad = v4_api(s, wrong)
    with pytest.raises(fs.ApiException) as refused:
        bad.update_event(IDS.request_id, fs.EventUpdate(linked_id="never"), _request_timeout=10)
    assert refused.value.status == 403
    with pytest.raises(fs.ApiException) as unknown:
        api.update_event(UNKNOWN_ID, fs.EventUpdate(linked_id="x"), _request_timeout=10)
    assert unknown.value.status == 404
    return 5


def assert_clean(s: Session, requests: int, *, client_findings: set[str] = frozenset()) -> None:
    """Exit 0 (1 with client findings), no failed clause but those, one HAR entry per request, no key anywhere."""
    assert s.stop() == (1 if client_findings else 0), s.stderr
    assert s.failed() == set(client_findings), s.stderr
    statuses = s.statuses()
    assert statuses["UE-SEM-01"] == "passed"  # the read-back after the updates was compared
    # An SDK adds its `ii` query parameter: the contract leaves open whether that is accepted (UE-OPEN-03),
    # so its valid updates are judged under UE-OPEN-03, not UE-BODY-01.
    assert statuses["UE-RESP-01"] == statuses["UE-AUTH-03"] == statuses["UE-OPEN-03"] == "passed"
    assert all(statuses[c] in ("passed", "failed") for c in client.CLAUSES)
    assert len(judged_exchanges(s)) == requests
    assert s.summary["result"] == ("failed" if client_findings else "passed")
    s.assert_no_secret()


def test_python_sdk_v3_through_the_proxy_is_clean(tmp_path):
    with session(tmp_path, "v3") as s:
        requests = v3_calls(s)
        assert_clean(s, requests)
        assert "violated" not in s.stderr


def test_python_sdk_v4_through_the_proxy_is_clean(tmp_path):
    with session(tmp_path, "v4") as s:
        requests = v4_calls(s)
        assert_clean(s, requests)
        assert "violated" not in s.stderr


def test_node_sdk_through_the_proxy_is_clean(tmp_path):
    """The Node SDK 7.x labels its JSON body text/plain (it sets no Content-Type, and fetch labels a string
    body so), which the live API takes and UE-CLIENT-03 allows: clean, both sides."""
    with session(tmp_path, "v4") as s:
        wrong = wrong_key()
        s.said.append(wrong)
        update = {"call": "updateEvent", "eventId": IDS.request_id, "body": {"linked_id": "via-node", "suspect": False}}
        results = node(
            s,
            update,
            {"call": "getEvent", "eventId": IDS.request_id},
            {**update, "apiKey": wrong, "body": {"linked_id": "never"}},
            {**update, "eventId": UNKNOWN_ID},
        )
        assert [r["ok"] for r in results] == [True, True, False, False], results
        assert results[1]["value"]["linked_id"] == "via-node"
        assert_clean(s, sum(len(r["requests"]) for r in results))


# -- the same SDKs against mutants: flagged under the clause they break ----------------------------------
def test_update_not_stored_is_flagged_through_the_v4_sdk(tmp_path):
    with session(tmp_path, "v4", "update-not-stored") as s:
        fs, api = v4_api(s)
        api.update_event(IDS.request_id, fs.EventUpdate(linked_id="stored?"), _request_timeout=TIMEOUT)
        api.get_event(IDS.request_id, _request_timeout=TIMEOUT)
        assert s.stop() == 1
        assert s.failed() == {"UE-SEM-01"}
        [record] = s.failures("UE-SEM-01")
        assert "stored?" in record["expected"] and record["check"] == "stored_fields_match"
        assert record["cause"]["request"]["method"] == "PATCH"  # the update that was not stored
        assert "UE-SEM-01" in s.stderr and "violated" in s.stderr  # printed as found
        s.assert_no_secret()


def test_update_not_stored_is_flagged_through_the_v3_sdk(tmp_path):
    with session(tmp_path, "v3", "update-not-stored") as s:
        fp, api = v3_api(s)
        api.update_event(fp.EventsUpdateRequest(linked_id="stored?"), IDS.request_id, _request_timeout=TIMEOUT)
        api.get_event(IDS.request_id, _request_timeout=TIMEOUT)
        assert s.stop() == 1
        assert s.failed() == {"UE-SEM-01"}


def test_not_found_wrong_code_is_flagged_through_the_v3_sdk(tmp_path):
    with session(tmp_path, "v3", "not-found-wrong-code") as s:
        fp, api = v3_api(s)
        from fingerprint_pro_server_api_sdk.rest import KnownApiException

        api.update_event(fp.EventsUpdateRequest(linked_id="fine"), IDS.request_id, _request_timeout=TIMEOUT)
        with pytest.raises(KnownApiException):
            api.update_event(fp.EventsUpdateRequest(linked_id="x"), UNKNOWN_ID, _request_timeout=TIMEOUT)
        # The same update without what the SDK adds (its `ii` query parameter), as curl would send it.
        plain = httpx.put(
            f"{s.base_url}/events/{UNKNOWN_ID}", headers={"Auth-API-Key": s.api_key}, json={"linkedId": "x"}, timeout=10
        )
        assert plain.status_code == 404
        assert s.stop() == 1
        # The SDK's request has two things the contract speaks of: an unknown event, and `ii` (left open,
        # UE-OPEN-03): several faults, any of their answers (UE-OPEN-01), and 404 with the wrong code is none.
        assert s.failed() == {"UE-ID-01", "UE-OPEN-01", "UE-RESP-05"}, s.stderr


def test_wrong_key_missing_code_is_flagged_through_the_node_sdk(tmp_path):
    with session(tmp_path, "v4", "wrong-key-missing-code") as s:
        wrong = wrong_key()
        s.said.append(wrong)
        [result] = node(
            s, {"call": "updateEvent", "eventId": IDS.request_id, "body": {"linked_id": "x"}, "apiKey": wrong}
        )
        assert not result["ok"]
        assert s.stop() == 1
        assert s.failed() == {"UE-AUTH-03"}, s.stderr
        [record] = s.failures("UE-AUTH-03")
        assert "fpjs-proxy:not-the-api-key" in record["summary"]  # the wrong key as a placeholder, never its text
        s.assert_no_secret()


def test_wrong_key_missing_code_is_flagged_through_the_v4_sdk(tmp_path):
    with session(tmp_path, "v4", "wrong-key-missing-code") as s:
        near = NEAR_MISSES["drop-last"](s.api_key, "K")[0]  # a near miss of the key, named as one
        fs, api = v4_api(s, near)
        with pytest.raises(fs.ApiException):
            api.update_event(IDS.request_id, fs.EventUpdate(linked_id="x"), _request_timeout=TIMEOUT)
        assert s.stop() == 1
        assert s.failed() == {"UE-AUTH-03"}
        [record] = s.failures("UE-AUTH-03")
        assert "near-miss of the API key (drop-last)" in record["summary"]
        s.assert_no_secret()


def test_an_echoed_key_is_flagged_and_kept_out_of_every_report(tmp_path):
    """An upstream quoting the key a client sent (not the API key, nor a near miss of it: only the request it
    came in says it is a secret): the proxy judges the answer with it scrubbed, and no report holds it."""
    with session(tmp_path, "v4", "wrong-key-echoed") as s:
        wrong = wrong_key()
        s.said.append(wrong)
        fs, api = v4_api(s, wrong)
        with pytest.raises(fs.ApiException):
            api.update_event(IDS.request_id, fs.EventUpdate(linked_id="x"), _request_timeout=TIMEOUT)
        assert s.stop() == 1
        assert s.failed() == {"UE-AUTH-03"}, s.stderr
        s.assert_no_secret()


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_a_key_equal_to_a_field_is_judged_as_it_came_and_kept_out_of_every_file(tmp_path, version):
    """The key `suspect` is a field's name, and here a field's value too: scrubbing what arrives would rewrite
    the read-back (`"[secret]": true`) and fail a correct server under UE-SEM-01. Judged as it came, the
    session is clean; scrubbed where it leaves, the key (and a token under a credential-like header name) is
    in no file the proxy wrote nor on its terminal."""
    with session(tmp_path, version, key="suspect") as s:
        p = s.profile
        linked = next(f for f in p.fields if f.replace("_", "").lower() == "linkedid")
        url = s.base_url + p.path_for(p.update_path, IDS.request_id)
        place = p.key_places[0]
        auth = {place.field: f"{place.scheme} {s.api_key}" if place.scheme else s.api_key}
        token = "tok-" + secrets.token_hex(8)  # under a credential-like name: kept as it came, scrubbed at exit
        s.said.append(token)
        with httpx.Client(timeout=TIMEOUT) as http:
            update = http.request(
                p.update_method,
                url,
                headers={**auth, "X-Session-Token": token},
                json={"suspect": True, linked: "suspect"},
            )
            read = http.request(
                p.read_back_method, s.base_url + p.path_for(p.read_back_path, IDS.request_id), headers=auth
            )
        assert (update.status_code, read.status_code) == (200, 200)
        assert b"suspect" in read.content  # what the server sent holds the key's text: a field, a value
        assert s.stop() == 0, s.stderr
        assert s.failed() == set(), s.stderr
        assert s.statuses()["UE-SEM-01"] == "passed"
        assert len(judged_exchanges(s)) == 2
        s.assert_no_secret()


# -- a hand-made client: client violations --------------------------------------------------------------
def test_hand_made_client_violations_v4(tmp_path):
    """The key in the v4-retired `api_key` query parameter: UE-CLIENT-02; a body that breaks the schema:
    UE-CLIENT-01; a body labelled as a form, or not labelled: UE-CLIENT-03. The server answers each as it should."""
    with session(tmp_path, "v4") as s:
        url = f"{s.base_url}/events/{IDS.request_id}"
        bearer = {"Authorization": f"Bearer {s.api_key}"}
        with httpx.Client(timeout=TIMEOUT) as http:
            in_query = http.patch(url, params={"api_key": s.api_key}, json={"linked_id": "q"})
            bad_body = http.patch(url, headers=bearer, json={"linked_id": 5, "suspect": "yes"})
            text_plain = http.patch(
                url,
                headers={**bearer, "Content-Type": "application/x-www-form-urlencoded"},
                content=b'{"linked_id": "plain"}',
            )
            fine = http.patch(url, headers=bearer, json={"linked_id": "fine"})
            read = http.get(url, headers=bearer)
        assert (in_query.status_code, bad_body.status_code, fine.status_code, read.status_code) == (403, 400, 200, 200)
        assert text_plain.status_code in (200, 400)
        assert s.stop() == 1
        assert s.failed() == {client.BODY_VALID, client.KEY_PLACE, client.MEDIA_TYPE}, s.stderr
        [place] = s.failures(client.KEY_PLACE)
        assert "api_key query parameter (a retired place)" in place["received"]
        assert place["request"]["url"].endswith("?api_key=${FPJS_API_KEY}")
        [body] = s.failures(client.BODY_VALID)
        assert "linked_id" in body["received"]
        assert s.statuses()["UE-AUTH-10"] == "passed"  # the server refused the retired place, as it must
        for clause_id in client.CLAUSES:
            assert clause_id in s.stderr  # one line each, as found
        assert len(judged_exchanges(s)) == 5
        s.assert_no_secret()


def test_without_a_key_credential_clauses_are_not_judged(tmp_path):
    with session(tmp_path, "v4", "wrong-key-missing-code", with_key=False) as s:
        url = f"{s.base_url}/events/{IDS.request_id}"
        wrong = wrong_key()
        s.said.append(wrong)
        with httpx.Client(timeout=TIMEOUT) as http:
            assert http.patch(url, headers={"Authorization": f"Bearer {s.api_key}"}, json={"suspect": True}).is_success
            assert (
                http.patch(url, headers={"Authorization": f"Bearer {wrong}"}, json={"suspect": True}).status_code == 403
            )
            assert http.get(url, headers={"Authorization": f"Bearer {s.api_key}"}).is_success
        assert s.stop() == 0, s.stderr  # the mutant's wrong code for a wrong key needs the key to tell
        statuses = s.statuses()
        cell = s.summary["clauses"][[c["id"] for c in s.summary["clauses"]].index("UE-AUTH-03")]["versions"]["v4"]
        assert statuses["UE-AUTH-03"] == "skipped" and "--api-key" in cell["skipped"][0]
        assert statuses["UE-SEM-01"] == statuses["UE-RESP-05"] == statuses[client.KEY_PLACE] == "passed"
        assert "not judged" in s.stderr
        s.assert_no_secret()  # the key the proxy was not given is not named either


# -- the reports ---------------------------------------------------------------------------------------
def run_summary_shape(tmp_path: Path) -> dict:
    """The model a pytest run's summary.json is written from (`reporting.collect`), for a remote v4 target."""
    given = {
        "base_url": "http://127.0.0.1:9/v4",
        "api_key": "k" + secrets.token_hex(8),
        "request_id": IDS.request_id,
        "report_dir": str(tmp_path / "run"),
    }
    run = commands.new_run(options.parse(given.get, tmp_path))
    return reporting.collect(RunResult.of(run), 0)


def test_summary_has_the_shape_of_a_run(tmp_path):
    with session(tmp_path, "v4") as s:
        with httpx.Client(timeout=TIMEOUT) as http:
            http.patch(
                f"{s.base_url}/events/{IDS.request_id}", headers={"Authorization": f"Bearer {s.api_key}"}, json={}
            )
        assert s.stop(signal.SIGINT) == 0  # Ctrl-C ends a session as SIGTERM does
        assert "stopped by SIGINT" in s.stderr
        summary, run = s.summary, run_summary_shape(tmp_path)
        assert set(summary) == set(run)
        assert set(summary["versions"][0]) == set(run["versions"][0])
        # a run's clauses, and the client clauses only a proxy judges
        assert [c["id"] for c in summary["clauses"]] == [c["id"] for c in run["clauses"]] + [
            cid for cid in clauses.catalogue() if cid not in clauses.server_clauses()
        ]
        assert {p.name for p in s.report_dir.iterdir()} >= set(reporting.FILES)
        assert summary["versions"][0]["stats"]["requests_sent"] == 1
        junit = (s.report_dir / "junit.xml").read_text(encoding="utf-8")
        assert "v4::UE-CLIENT-01" in junit


def test_other_traffic_passes_through_unjudged_and_unaltered(tmp_path):
    """A path the contract does not cover is forwarded and answered as it came, and not recorded."""
    with session(tmp_path, "v4") as s, httpx.Client(timeout=TIMEOUT) as http:
        direct = http.get(s.upstream.url + "/v4/no-such-path")
        through = http.get(s.base_url + "/no-such-path")
        assert (through.status_code, through.content) == (direct.status_code, direct.content)
        assert "server" not in {k.lower() for k in through.headers} - {k.lower() for k in direct.headers}
        assert s.stop() == 0
        assert s.har() == []


def test_unreachable_upstream_is_a_transport_violation(tmp_path):
    with session(tmp_path, "v4") as s:
        s.upstream.stop()  # the upstream goes away: the proxy answers 502 and judges UE-TRANSPORT-01
        with httpx.Client(timeout=TIMEOUT) as http:
            answer = http.patch(
                f"{s.base_url}/events/{IDS.request_id}", headers={"Authorization": f"Bearer {s.api_key}"}, json={}
            )
        assert answer.status_code == 502
        assert s.stop() == 1
        assert s.failed() == {"UE-TRANSPORT-01"}


# -- in-process: reading requests, judging clients, the command line -------------------------------------
READER_KEY = "rk" + "0123456789abcdef" * 2


def reader(version: str, key: str | None = READER_KEY) -> codec.Codec:
    """The codec as the proxy reads with it: the upstream's origin, the key if given, names in ASGI's lower case."""
    profile = profiles.load(version)
    return codec.Codec(profile, codec.Secrets(key or ""), "https://api.example" + profile.server_path)


def read(version: str, key: str | None, method: str, path: str, query: str, headers, body: bytes) -> codec.Decoded:
    seen = reader(version, key).decode(method, path, query, headers, body, names_seen=False)
    assert seen is not None
    return seen


@pytest.mark.parametrize(
    ("value", "key", "scheme", "separator"),
    [
        (f"Bearer {READER_KEY}", VALID, "", " "),
        (f"bearer {READER_KEY}", VALID, "bearer", " "),
        (READER_KEY, VALID, None, " "),
        ("Bearer", EMPTY, "Bearer", " "),
        (f"Bearer{READER_KEY}", VALID, "", ""),
        (f"Bearer:{READER_KEY}", VALID, "", ":"),
        (f"Bearer {READER_KEY[:-1]}", Key("near", "drop-last"), "", " "),
        ("Bearer somebody-elses-key-123", codec.WRONG_KEY, "", " "),
    ],
)
def test_reader_names_keys_and_spellings(value, key, scheme, separator):
    seen = read("v4", READER_KEY, "PATCH", "/v4/events/x", "", [("authorization", value)], b"{}")
    [cred] = seen.request.credentials.items
    assert (cred.place, cred.key, cred.scheme, cred.separator) == ("header", key, scheme, separator)
    shown = repr(seen.request) + seen.shown_url + json.dumps(seen.shown_headers) + json.dumps(seen.request.to_record())
    assert READER_KEY[:-1] not in shown and "somebody-elses-key" not in shown


def test_reader_without_a_key_names_none():
    seen = read(
        "v3", None, "PUT", "/events/x", "api_key=abc%2Bdef&ii=sdk%2F1", [("auth-api-key", "zzz")], b'{"tag":{}}'
    )
    assert {c.key for c in seen.request.credentials.items} == {codec.UNCHECKED_KEY}
    assert (
        seen.unchecked
        and seen.shown_url == "https://api.example/events/x?api_key=fpjs-proxy:key-not-checked&ii=sdk%2F1"
    )
    assert seen.request.extra_query == (("ii", "sdk/1"),)
    assert seen.shown_headers == {"Auth-API-Key": "fpjs-proxy:key-not-checked"}
    assert set(seen.secrets) == {"abc+def", "zzz"}  # scrubbed from the answer, never kept past it


def test_reader_keeps_what_looks_like_a_credential_and_lists_it_to_scrub():
    """Judged as it came: a value under a credential-like name is kept (never rewritten at the entrance) and
    listed among the texts the run's scrubber removes wherever data leaves."""
    seen = read(
        "v4",
        READER_KEY,
        "PATCH",
        "/v4/events/x",
        "apiKey=hunter2hunter2",
        [("x-api-key", "hunter3hunter3"), ("cookie", "session=s3cr3t"), ("user-agent", "curl/8")],
        b"{}",
    )
    assert seen.request.extra_query == (("apiKey", "hunter2hunter2"),)
    assert ("X-Api-Key", "hunter3hunter3") in seen.request.extra_headers
    assert {"hunter2hunter2", "hunter3hunter3", "session=s3cr3t"} <= set(seen.secrets)
    assert seen.shown_headers["User-Agent"] == "curl/8"


def ex(request: SymbolicRequest, version: str = "v4") -> Exchange:
    return Exchange(request, "PATCH", "https://api.example/v4/events/x", {}, status=200, version=version)


@pytest.mark.parametrize(
    ("request_", "broken"),
    [
        (SymbolicRequest("x", Credentials.of(header=VALID), Body.of({"linked_id": "a"})), set()),
        (SymbolicRequest("x", Credentials.of(header=VALID), Body.of({"linked_id": 1})), {client.BODY_VALID}),
        (SymbolicRequest("x", Credentials.of(header=VALID), Body.bytes_(b"{")), {client.BODY_VALID}),
        (SymbolicRequest("x", Credentials.of(header=VALID), Body.of([1])), {client.BODY_VALID}),
        (SymbolicRequest("x", Credentials.of(header=VALID)), {client.BODY_VALID}),
        (SymbolicRequest("x", Credentials.of(**{"retired-query": VALID}), Body.of({})), {client.KEY_PLACE}),
        (SymbolicRequest("x", Credentials(), Body.of({})), {client.KEY_PLACE}),
        (
            SymbolicRequest("x", Credentials((Credential("header", VALID, scheme=None),)), Body.of({})),
            {client.KEY_PLACE},
        ),
        (
            SymbolicRequest("x", Credentials((Credential("header", VALID, scheme="bearer"),)), Body.of({})),
            set(),
        ),
        (
            SymbolicRequest("x", Credentials.of(header=VALID), Body.of({}), content_type=None),
            {client.MEDIA_TYPE},
        ),
        (
            SymbolicRequest("x", Credentials.of(header=VALID), Body.of({}), content_type="text/plain;charset=UTF-8"),
            set(),
        ),
        (
            SymbolicRequest(
                "x", Credentials.of(header=VALID), Body.of({}), content_type="Application/JSON; charset=utf-8"
            ),
            set(),
        ),
        (SymbolicRequest("x", Credentials.of(header=VALID), op=READ), set()),
    ],
)
def test_client_clauses(request_, broken):
    verdicts = client.judge(ex(request_), profiles.load("v4"))
    assert {c for c, v in verdicts if v is not None} == broken
    assert all(v.check for _, v in verdicts if v is not None)


def test_client_clauses_v3_query_key_is_declared():
    request = SymbolicRequest("x", Credentials.of(query=VALID), Body.of({"linkedId": "a"}))
    assert all(v is None for _, v in client.judge(ex(request, "v3"), profiles.load("v3")))


def test_usage_errors_before_anything_listens(capsys):
    parser = argparse.ArgumentParser()
    proxy_module.add_arguments(parser)
    for argv, says in [
        ([], "--upstream"),
        (["--upstream=ftp://x"], "--upstream must start with http"),
        (["--upstream=http://u:p@127.0.0.1:9/v4"], "user:password"),
        (["--upstream=http://127.0.0.1:9", "--api-version=v9"], "--api-version"),
        (["--upstream=http://127.0.0.1:9", "--port=http"], "--port"),
    ]:
        with pytest.raises(SystemExit) as stopped:
            proxy_module.parse(parser.parse_args(argv))
        assert stopped.value.code == 4
        err = capsys.readouterr().err
        assert err.startswith("ERROR: ") and says in err and err.count("\n") == 1, err


def test_version_follows_the_upstream_path(tmp_path):
    parser = argparse.ArgumentParser()
    proxy_module.add_arguments(parser)
    args = parser.parse_args(["--upstream=http://127.0.0.1:9/v4", f"--report-dir={tmp_path}", "--port=0"])
    opts, port = proxy_module.parse(args)
    assert (opts.versions, port, opts.no_restore) == (("v4",), 0, True)


def test_registered_as_a_command():
    parser = argparse.ArgumentParser()
    proxy_module.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["proxy", "--upstream=https://api.fpjs.io/v4"])
    assert args.command_main is proxy_module.command_main


def test_a_taken_port_is_a_usage_error(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(SystemExit) as stopped:
            proxy_module.listen(taken.getsockname()[1])
    assert stopped.value.code == 4
    assert capsys.readouterr().err.startswith("ERROR: --port ")
