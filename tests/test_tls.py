"""HTTPS targets: a private CA works with --ca-bundle; an untrusted or wrong certificate is one clear line."""

import secrets

import pytest
import trustme

from fpjs_conformance.refserver.launch import ServerProcess
from tests.runner import run_suite


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def tls_server(ca, tmp_path, key, hostname="127.0.0.1"):
    cert = ca.issue_cert(hostname)
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(certfile)
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(certfile, append=True)
    cert.private_key_pem.write_to_path(keyfile)
    args = [
        "-m",
        "fpjs_conformance.refserver",
        "--port",
        "0",
        "--ssl-certfile",
        str(certfile),
        "--ssl-keyfile",
        str(keyfile),
    ]
    return ServerProcess(args, env={"FPJS_REF_API_KEY": key})


def test_private_ca_with_ca_bundle_passes(ca, tmp_path):
    key = "k" + secrets.token_hex(10)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(ca_file)
    with tls_server(ca, tmp_path, key) as server:
        assert server.url.startswith("https://")
        run = run_suite(server.url, key, tmp_path / "r", f"--ca-bundle={ca_file}", "-k", "UE-AUTH-01 or UE-AUTH-04")
    assert run.returncode == 0, run.output[-2000:]


@pytest.mark.parametrize("hostname", ["127.0.0.1", "wrong.example"], ids=["untrusted-ca", "wrong-hostname"])
def test_untrusted_certificate_is_one_clear_line(ca, tmp_path, hostname):
    key = "k" + secrets.token_hex(10)
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(other_ca)
    ca_args = [f"--ca-bundle={other_ca}"] if hostname == "127.0.0.1" else []
    if hostname != "127.0.0.1":
        ca.cert_pem.write_to_path(tmp_path / "ca.pem")
        ca_args = [f"--ca-bundle={tmp_path / 'ca.pem'}"]
    with tls_server(ca, tmp_path, key, hostname) as server:
        run = run_suite(server.url, key, tmp_path / "r", *ca_args, "-k", "UE-AUTH-01")
    assert run.returncode == 1, run.output[-2000:]
    lines = [line for line in run.output.splitlines() if line.startswith("fpjs: STOPPED")]
    assert len(lines) == 1 and "certificate" in lines[0].lower() and "--ca-bundle" in lines[0], run.output[-2000:]
    assert "Traceback" not in run.output and key not in run.output
