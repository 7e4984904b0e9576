"""Response shape: every status declared, no 5xx, every error body a JSON ErrorResponse whose code fits.

These checks judge every response of every test; here each clause also gets its own test, a
tour of requests that should produce each declared error status.
"""

from contracts.clauses import clause
from contracts.model import NO_KEY, Body, Credentials, Key


def run_tour(target):
    """Send one request per declared status the suite can provoke on demand; judge each."""
    requests = {
        "403": target.update(credentials=NO_KEY),
        "403-wrong-key": target.update(credentials=Credentials(header=Key("near", "drop-last"))),
        "400": target.update(Body.bytes_(b"{")),
        "404": target.update(request_id="1000000000000.unknwn"),
        "200": target.update(),
    }
    for req in requests.values():
        target.verify(req)


@clause("UE-RESP-01")
def test_only_declared_statuses(target):
    run_tour(target)


@clause("UE-RESP-02")
def test_never_a_server_error(target):
    run_tour(target)


@clause("UE-RESP-03")
def test_error_bodies_are_json(target):
    run_tour(target)


@clause("UE-RESP-04")
def test_error_bodies_are_error_response(target):
    run_tour(target)


@clause("UE-RESP-05")
def test_error_code_fits_status(target):
    run_tour(target)
