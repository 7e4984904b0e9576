"""A write on record that never went out is not waited for (issue 27, found by the kill matrix's timings).

The gate journals a write before the transport sends it; a stop (a signal, the run timeout) that comes first,
at the pacing wait or before it, left it counted as "got no answer", and the restore then waited its late-write
settle time twice (ten seconds) for a write that could not land. As a property: whatever number of writes
went out and wherever the stop comes before the next one, the state awaits nothing, over real HTTP.
"""

from __future__ import annotations

import secrets
import threading

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fpjs_conformance import profile, writegate
from fpjs_conformance.designated import EventState
from fpjs_conformance.keys import Secrets
from fpjs_conformance.limits import Policy
from fpjs_conformance.model import VALID, Body, Credentials, Events, Request
from fpjs_conformance.transport import RunTimedOut, Transport
from tests.runner import IDS, reference_server

V3 = profile.load("v3")
EVENTS = Events(IDS.request_id, IDS.expired_request_id, IDS.not_ready_request_id)


@pytest.fixture(scope="module")
def server():
    key = "k" + secrets.token_hex(12)
    with reference_server(key) as s:
        yield s.url, key


def stopped_between_writes(server, policy: Policy, sent: int, stop: str, send, stop_requested) -> None:
    """`sent` writes go out through the gate (`send(gate, i)`), then a stop (`stop_requested(transport)`, or
    the run's deadline passed) keeps the next one from the wire: none of them is awaited."""
    url, key = server
    transport = Transport(V3, url + V3.server_path, Secrets(key), policy)
    transport.policy.stop_requested = stop_requested(transport)
    state = EventState()
    gate = writegate.WriteGate(transport, V3, EVENTS, state)
    try:
        for i in range(sent + 1):
            if stop == "run timeout" and i == sent:
                transport.policy.deadline = 0.0  # passed: the next request cannot be sent
            send(gate, i)
        raise AssertionError("the stop never came")
    except (KeyboardInterrupt, RunTimedOut):
        pass
    finally:
        transport.close()
    assert transport.stats.sent == sent
    assert state.awaiting == 0 and not state.unanswered, (state.awaiting, state.unanswered)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=st.integers(0, 3), stop=st.sampled_from(["signal", "signal in the pacing wait", "run timeout"]))
def test_a_write_stopped_before_it_went_out_is_not_waited_for(server, sent, stop):
    assume(sent > 0 or stop != "signal in the pacing wait")  # the first request has no wait before it
    valid = Credentials.of(**{V3.key_places[0].name: VALID})
    checks: list[int] = []

    def stop_requested(transport: Transport):
        def why() -> str | None:
            if transport.stats.sent < sent or stop == "run timeout":
                return None
            checks.append(1)  # the first check is the pacing's own, before its wait
            return "stopped" if stop == "signal" or len(checks) > 1 else None

        return why

    def send(gate: writegate.WriteGate, i: int) -> None:
        gate.send(Request(EVENTS.live, valid, Body.of({"linkedId": f"withdrawn-{i}"})))

    stopped_between_writes(server, Policy(rate_limit=20.0), sent, stop, send, stop_requested)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=st.integers(0, 3), stop=st.sampled_from(["signal", "run timeout"]))
def test_a_request_in_flight_that_a_stop_kept_from_the_wire_is_not_waited_for(server, sent, stop):
    """The same for a request handed to another connection (`WriteGate.submit`, `--connections`): an update of
    the designated event without the key is journalled before it goes out; a stop that reaches its connection
    first withdraws it once its flight is over."""

    def stop_requested(transport: Transport):
        def why() -> str | None:
            on_a_connection_of_its_own = threading.current_thread().name.startswith("fpjs-send")
            mine = stop == "signal" and on_a_connection_of_its_own and transport.stats.sent >= sent
            return "stopped" if mine else None

        return why

    def send(gate: writegate.WriteGate, i: int) -> None:
        request = Request(EVENTS.live, Credentials(), Body.of({"linkedId": f"in-flight-{i}"}))
        writes, flight = gate.submit(request)
        assert writes is not None and gate.state.awaiting == 1  # on record before it went out
        flight.wait()
        gate.answer(request, writes, flight)

    stopped_between_writes(server, Policy(connections=4), sent, stop, send, stop_requested)
