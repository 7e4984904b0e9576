"""fpjs-update-event-conformance: the contract suite for the Fingerprint Server API update-event endpoint.

Installed, everything imports under this one name: the library (profile, checks, oracle,
transport, reports), the pytest plugin (`fpjs_conformance.plugin`, registered as a `pytest11`
entry point), the bundled reference server (`fpjs_conformance.refserver`), and the two folders the
repository keeps visible: `contracts/` (documents, profiles, clause catalogue, contract tests) as
`fpjs_conformance.contracts`, and `strategies/` as `fpjs_conformance.strategies`.
"""

__version__ = "0.3.0"
