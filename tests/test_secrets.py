"""The secret API key (and a password in the base URL) never leaves the run: not in the terminal, not
with pytest's --full-trace after Ctrl-C, not in the reports. Scrubbing never garbles pytest's own output."""

import secrets
import signal

from tests.runner import IDS, clean_env, files_text, reap, reference_server, run_suite, start_suite, wait_for_first_test


def test_full_trace_after_ctrl_c_shows_no_key(tmp_path):
    """pytest suggests --full-trace on Ctrl-C; it prints every frame's arguments, the transport's among them."""
    key = "canary" + secrets.token_hex(16)
    with reference_server(key) as server:
        args = [
            "--full-trace",
            f"--base-url={server.url}",
            f"--request-id={IDS.request_id}",
            f"--report-dir={tmp_path}",
            "--rate-limit=100",
            "--hypothesis-profile=nightly",
        ]
        proc = start_suite(*args, env=clean_env(FPJS_API_KEY=key, FPJS_HYPOTHESIS_DB=str(tmp_path / "db")))
        try:
            seen = wait_for_first_test(proc)
            proc.send_signal(signal.SIGINT)
            output = seen + proc.communicate(timeout=60)[0]
        finally:
            reap(proc)
    assert proc.returncode == 2 and "KeyboardInterrupt" in output, output[-2000:]
    assert "Traceback" in output or "File " in output or ".py:" in output  # the trace was printed
    assert key not in output and key[:-1] not in output and key not in files_text(tmp_path)


def test_password_in_the_base_url_is_a_secret(tmp_path):
    """Failures (against a server ignoring auth) carry replay lines: the password comes from the environment."""
    key, password = "k" + secrets.token_hex(12), "pw" + secrets.token_hex(12)
    with reference_server(key, "-m", "tests.variants", "auth-ignored") as server:
        url = server.url.replace("http://", f"http://fpjs-user:{password}@")
        run = run_suite(url, key, tmp_path, "--hypothesis-profile=table", "-k", "UE-AUTH")
    assert run.returncode == 1, run.output[-2000:]
    said = run.output + files_text(tmp_path)
    assert password not in said and key not in said
    assert "${FPJS_BASE_URL_USERINFO}" in files_text(tmp_path)  # replay lines take it from the environment


def test_short_key_fragments_are_not_scrubbed_and_pytest_output_survives(tmp_path):
    """With the key `test-key`, the word `test` is not a secret: file names, rerun lines and `-rs` stay intact."""
    key = "test-key"
    with reference_server(key) as server:
        run = run_suite(server.url, key, tmp_path, "-rs", "--hypothesis-profile=table", "-k", "UE-AUTH-06 or UE-ID-03")
    assert run.returncode == 0, run.output[-2000:]
    assert "INTERNALERROR" not in run.output and "SKIPPED" in run.output
    assert "[secret]" not in run.output and "fpjs_conformance/contract.py" in run.output  # paths unscrubbed
    assert key not in run.output + files_text(tmp_path)
