"""The suite's clauses as schemathesis checks: a hooks module for `schemathesis run`.

    export FPJS_API_KEY=... FPJS_REQUEST_ID=...
    SCHEMATHESIS_HOOKS=fpjs_conformance.schemathesis schemathesis run \\
        contracts/fingerprint-server-api-v4.yaml --url https://api.fpjs.io/v4 \\
        --include-operation-id updateEvent --phases examples,coverage,fuzzing --checks all \\
        --exclude-checks positive_data_acceptance,missing_required_header,allow_header_conformance

Imported by schemathesis (`SCHEMATHESIS_HOOKS`; importing it registers everything, `unregister()`
takes it away again), this module adds:

- `fpjs_clauses`, a check that judges every response to the update operation as the suite does:
  the case becomes the suite's symbolic `Request` (`to_request`: the real key becomes
  `Key("valid")`, every key place, retired ones included, and every spelling kept), `oracle.expect`
  says which clauses the answer informs and what each allows (the error code per role, auth before
  body and id, retired places, schemes), and `oracle.judge` gives every clause its verdict, the
  universal checks included (declared status, no 5xx, JSON `ErrorResponse` bodies, the code fits
  the status). Other operations, and other methods on the update's path, are not judged.
- `fpjs_stored`, a check that reads the designated event back after an accepted update through the
  suite's `Transport` (its `Target.read_back`) and compares the known fields sent
  (`checks.stored_fields_match` under UE-SEM-01; a field left out reads as `absent_reads_as`).
- the key: an auth provider puts FPJS_API_KEY in the first place the document names, spelled by
  the suite's transport (the key never goes on the command line). The examples phase gets every
  credential situation of `credential_draws` once (the other places and spellings, the retired
  places, no key, an empty and an unrelated key; each refused one again without a body: auth before
  body), and in the fuzzing phase Hypothesis draws them (`flatmap_case`).
- the suite's coverage table in the examples phase (`designed_examples`): every run sends its cases
  a schemathesis case can carry, deterministically, the unknown and odd ids among them.
- the designated event: a `before_call` hook sends every other update to FPJS_REQUEST_ID. The path
  parameter hooks (`map_path_parameters`, `before_generate_path_parameters`) reach only the fuzzing
  phase, `map_case` the coverage and fuzzing phases but not the examples phase; `before_call` runs
  before every request of every phase. It also keeps generated integers within 2^53, as the
  suite's own generation does (RFC 8259, 6).

Every failure is one schemathesis failure per clause, titled with the version, the clause id and
title, its message the suite's one-line summary and the clause's requirement sentence, scrubbed of
the key. The clauses this mode exercises are `COVERED`; why the others are not, `NOT_COVERED`.
Restoring the event is the suite's business: after a schemathesis run the designated event keeps
the last values written to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import schemathesis
from hypothesis import strategies as st
from schemathesis.core import NOT_SET

from fpjs_conformance import checks
from fpjs_conformance import profile as profiles
from fpjs_conformance.checks import Violation
from fpjs_conformance.model import VALID, Credentials
from fpjs_conformance.profile import Profile
from fpjs_conformance.rules import semantics
from fpjs_conformance.schemathesis_cases import credential_draws, designed, designed_examples, place_key, refused
from fpjs_conformance.schemathesis_judge import (
    API_KEY_VAR,
    COVERED,
    NOT_COVERED,
    REQUEST_ID_VARS,
    VERSION_VAR,
    ClauseViolated,
    Settings,
    SettingsError,
    base_url_of,
    covered,
    events_of,
    fields_to_compare,
    judge_case,
    profile_for,
    raise_failures,
    read_back_target,
)
from fpjs_conformance.schemathesis_wire import component_mode, to_exchange, to_request
from fpjs_conformance.strategies import interoperable
from fpjs_conformance.table import probe_body

__all__ = [
    "COVERED",
    "NOT_COVERED",
    "ClauseViolated",
    "Settings",
    "SettingsError",
    "covered",
    "credential_draws",
    "designed_examples",
    "fpjs_clauses",
    "fpjs_stored",
    "judge_case",
    "place_key",
    "profile_for",
    "refused",
    "to_exchange",
    "to_request",
]


# -- the checks -------------------------------------------------------------------------------------
def fpjs_clauses(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every clause the answer to an update informs, judged by the suite's oracle (other operations: skipped)."""
    judged = judge_case(case, response)
    if judged is None:
        return True
    raise_failures(judged.violations, judged, case)
    return None


def fpjs_stored(ctx: Any, response: Any, case: Any) -> bool | None:
    """After an accepted update of the designated event: the known fields sent are what the read-back shows."""
    if response.status_code // 100 != 2:
        return True
    judged = judge_case(case, response)
    if judged is None or judged.settings.api_key is None or judged.settings.events is None:
        return True
    want = fields_to_compare(judged)
    if not want:
        return True
    target = read_back_target(judged.profile, base_url_of(case, response), judged.events, judged.settings)
    try:
        stored = target.stored_now(judged.exchange, semantics.STORED)
        checks.stored_fields_match(semantics.STORED, stored, want, judged.exchange, judged.profile.absent_reads_as)
    except Violation as violation:
        raise_failures([violation], judged, case)
    return None


# -- feeding schemathesis: the key, where it goes, the designated event --------------------------------
class FpjsKey:
    """Schemathesis's auth: FPJS_API_KEY in the first place the document names, spelled as the suite does."""

    def get(self, case: Any, ctx: Any) -> tuple[Profile, Settings] | None:
        settings = Settings.from_env()
        found = _document_profiles(case.operation.schema, settings) if settings.api_key else []
        return (found[0], settings) if found else None

    def set(self, case: Any, data: tuple[Profile, Settings], ctx: Any) -> None:
        profile, settings = data
        place_key(case, profile, settings.api_key, Credentials.of(**{profile.key_places[0].name: VALID}))


def _documented_key(case: Any, profile: Profile, settings: Settings) -> bool:
    creds = to_request(case, profile, settings.api_key).credentials
    return creds == Credentials.of(**{profile.key_places[0].name: VALID})


def _update_profile(case: Any, settings: Settings) -> Profile | None:
    profile = profile_for(case.operation, settings)
    return profile if profile is not None and str(case.method).upper() == profile.update_method else None


def flatmap_case(ctx: Any, case: Any) -> Any:
    """Fuzzing phase: an update carrying the key as documented may carry other credentials instead
    (`credential_draws`; drawn by Hypothesis, shrinking back to the key as documented)."""
    settings = Settings.from_env()
    profile = _update_profile(case, settings) if settings.api_key else None
    if profile is None or not _documented_key(case, profile, settings):
        return st.just(case)
    return st.sampled_from([None, *credential_draws(profile)]).map(
        lambda creds: case if creds is None else place_key(case, profile, settings.api_key, creds)
    )


def before_call(ctx: Any, case: Any, kwargs: Any) -> None:
    """Every phase: the update goes to the designated event (unless its id is the negative part), and
    generated integers stay within 2^53 (RFC 8259, 6), as in the suite's own generation."""
    settings = Settings.from_env()
    profile = _update_profile(case, settings)
    if profile is None:
        return
    keep = designed(case.path_parameters.get(profile.id_param))  # the coverage table's ids stay theirs
    if settings.events is not None and component_mode(case, "path") != "negative" and not keep:
        case.path_parameters = {**case.path_parameters, profile.id_param: quote(settings.events.live, safe="")}
    if case.body is not NOT_SET and not isinstance(case.body, bytes | bytearray):
        clamped = interoperable(case.body)
        if clamped != case.body:
            case.body = clamped


def before_add_examples(ctx: Any, examples: list[Any]) -> None:
    """Examples phase, deterministically, every run: the key as documented and every credential situation
    of `credential_draws` once, with the suite's small valid update (`table.probe_body`), and each
    refused one again without a body (auth before body: UE-AUTH-07), sent to the designated event;
    then the suite's own coverage table (`designed_examples`), in its order."""
    operation = getattr(ctx, "operation", None)
    settings = Settings.from_env()
    if operation is None or not settings.api_key:
        return
    profile = profile_for(operation, settings)
    if profile is None or str(operation.method).upper() != profile.update_method:
        return
    live = quote(events_of(settings).live, safe="")
    draws = [Credentials.of(**{profile.key_places[0].name: VALID}), *credential_draws(profile)]
    situations = [(creds, probe_body(profile)) for creds in draws]
    situations += [(creds, NOT_SET) for creds in draws if refused(profile, creds)]
    for creds, update in situations:
        case = operation.Case(
            path_parameters={profile.id_param: live},
            body=update,
            media_type="application/json" if update is not NOT_SET else None,
        )
        examples.append(place_key(case, profile, settings.api_key, creds))
    examples += designed_examples(operation, profile, settings.api_key, events_of(settings))


def _document_profiles(schema: Any, settings: Settings, names: Iterable[str] | None = None) -> list[Profile]:
    """The profiles (of `names`, default: those FPJS_API_VERSION allows) whose update operation the
    loaded document has."""
    paths = (getattr(schema, "raw_schema", None) or {}).get("paths", {})
    found = []
    for p in map(profiles.load, names or settings.versions or profiles.versions()):
        item = paths.get(p.update_path)
        if isinstance(item, dict) and p.update_method.lower() in item:
            found.append(p)
    return found


def after_load_schema(ctx: Any, schema: Any) -> None:
    """A document with the update operation needs the key and the designated event: one line if not."""
    settings = Settings.from_env()
    if not _document_profiles(schema, settings):
        others = _document_profiles(schema, settings, profiles.versions())
        if settings.versions and others:
            raise SettingsError(
                f"{VERSION_VAR}={','.join(settings.versions)}, but the document is {others[0].version}'s: "
                "nothing would be judged"
            )
        return
    needs = {
        API_KEY_VAR: (settings.api_key, "the application's secret key"),
        REQUEST_ID_VARS[0]: (settings.events, "an event inside the update window the run may update"),
    }
    missing = [f"{name} ({what})" for name, (value, what) in needs.items() if not value]
    if missing:
        raise SettingsError(f"fpjs_conformance.schemathesis: set {' and '.join(missing)}")


# -- registration -----------------------------------------------------------------------------------
CHECKS = (fpjs_clauses, fpjs_stored)
HOOKS = (before_add_examples, flatmap_case, before_call, after_load_schema)


def _ours(provider: Any) -> bool:
    while provider is not None:
        if isinstance(provider, FpjsKey):
            return True
        provider = getattr(provider, "provider", None)
    return False


def register() -> None:
    """Register the checks, the hooks and the auth with schemathesis (done on import; idempotent)."""
    from schemathesis import hooks
    from schemathesis.auths import GLOBAL_AUTH_STORAGE
    from schemathesis.checks import CHECKS as REGISTERED

    for check in CHECKS:
        if check.__name__ not in REGISTERED.get_all_names():
            schemathesis.check(check)
    for hook in HOOKS:
        if hook not in hooks.get_all_by_name(hook.__name__):
            schemathesis.hook(hook)
    if not any(_ours(p) for p in GLOBAL_AUTH_STORAGE.providers):
        schemathesis.auth(refresh_interval=None)(FpjsKey)


def unregister() -> None:
    """Take everything `register` added away again (for a process that uses schemathesis otherwise too)."""
    from schemathesis import hooks
    from schemathesis.auths import GLOBAL_AUTH_STORAGE
    from schemathesis.checks import CHECKS as REGISTERED

    for check in CHECKS:
        if check.__name__ in REGISTERED.get_all_names() and REGISTERED.get_one(check.__name__) is check:
            REGISTERED.unregister(check.__name__)
    for hook in HOOKS:
        hooks.unregister(hook)
    GLOBAL_AUTH_STORAGE.providers = [p for p in GLOBAL_AUTH_STORAGE.providers if not _ours(p)]


register()
