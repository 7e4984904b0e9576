"""Transport: complete answers within the timeout, over one kept-alive connection and fresh ones."""

from contracts.clauses import clause
from contracts.model import Body


@clause("UE-TRANSPORT-01")
def test_every_request_is_answered_completely(target):
    target.verify(target.update(), "UE-TRANSPORT-01")
    target.verify(target.update(Body.of({"tag": {"pad": "x" * 8000}})), "UE-TRANSPORT-01")
    target.verify(target.update(request_id="1000000000000.unknwn"), "UE-TRANSPORT-01")
