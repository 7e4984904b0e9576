"""fpjs-update-event-conformance: the contract suite for the Fingerprint Server API update-event endpoint.

Installed, everything imports under this one name: the library (profile, checks, oracle,
transport, reports), the pytest plugin (`fpjs_conformance.plugin`, registered as a `pytest11`
entry point), the bundled reference server (`fpjs_conformance.refserver`), and the two folders the
repository keeps visible: `contracts/` (documents, profiles, clause catalogue, contract tests) as
`fpjs_conformance.contracts`, and `strategies/` as `fpjs_conformance.strategies`.

What an extender may import is `__all__`, from here (`from fpjs_conformance import clause, Operation`):

- the clause registry a rule registers with: `clause`, `cases`, `explores`, `check`;
- a version's contract: `load` (the profile loader), `versions`, `Profile`, `ProfileError`, `PROFILE_PATH`
  (folders of versions of your own), and its operations: `Operation`, `OPERATIONS`;
- what a rule builds and judges with: `Case`, `Table` (coverage cases), `Request`, `Exchange`, `Events`,
  `Violation`, `Fault`, `Expectation`;
- a run's result: `Exit` (the exit statuses); what a run found is data in its reports (`summary.json`).

The public Hypothesis strategies are `fpjs_conformance.strategies`. Every other module and name is private:
it may change without notice. The names load on first use, so importing one part of the package (the
reference server, which must not import the suite's judgement) does not import the rest.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.5.0"

_PUBLIC = {
    "clause": "registry",
    "cases": "registry",
    "explores": "registry",
    "check": "registry",
    "load": "profile",
    "versions": "profile",
    "Profile": "profile",
    "ProfileError": "profile",
    "PROFILE_PATH": "profile",
    "Operation": "operation",
    "OPERATIONS": "operation",
    "Case": "table",
    "Table": "table",
    "Request": "model",
    "Exchange": "model",
    "Events": "model",
    "Violation": "checks",
    "Fault": "checks",
    "Expectation": "checks",
    "Exit": "runstate",
}
__all__ = [*_PUBLIC]  # resolved by __getattr__


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
