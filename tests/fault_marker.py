"""Test instrumentation for the fault schedules (`-p tests.fault_marker`): just before the suite's own
`pytest_sessionfinish` (the restore phase), tell the fault front, so it can aim a fault at the restore's
n-th request. Does nothing without $FAULT_FRONT_MARKER."""

from __future__ import annotations

import contextlib
import os
import urllib.request

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    url = os.environ.get("FAULT_FRONT_MARKER")
    if url:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=10) as answer:
            answer.read()
