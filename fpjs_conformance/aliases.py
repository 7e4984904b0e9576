"""A read-back that shows a value sent under a name the vendor itself uses for the field (`[aliases]`:
v3's live message names `tags`, though v3's field is `tag`): a deviation from the document that the
vendor's own evidence makes plausible. It is reported at SHOULD level under the clause whose read-back
caught it (a warning; --strict fails it), never as a failure of that clause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fpjs_conformance import evidence
from fpjs_conformance.checks import Violation, same_json
from fpjs_conformance.model import Request
from fpjs_conformance.profile import Profile


def explaining(
    profile: Profile, requests: Iterable[Request], stored: Mapping[str, Any], want: Mapping[str, Any]
) -> list[evidence.Alias]:
    """The aliases whose values, sent in `requests`, the read-back shows for every field it shows otherwise
    than `want`; [] when one such field is not explained so (or none differs)."""
    known = evidence.aliases(profile)
    if not known:
        return []
    shown = {**profile.absent_reads_as, **stored}
    sent = [r.body.json_value for r in requests if r.body.present and isinstance(r.body.json_value, dict)]
    found: list[evidence.Alias] = []
    for field, value in want.items():
        if same_json(shown.get(field), value):
            continue
        hit = next(
            (
                a
                for a in known.values()
                if a.field == field and any(a.name in b and same_json(b[a.name], shown.get(field)) for b in sent)
            ),
            None,
        )
        if hit is None:
            return []
        found.append(hit)
    return found


def excusing(profile: Profile, requests: Iterable[Request], check: Callable[..., None]) -> Callable[..., None]:
    """`check(clause, stored, want, ...)`, whose violation is a SHOULD-level deviation when the vendor's own
    aliases explain it."""
    requests = list(requests)

    def judged(clause_id: str, stored: Mapping[str, Any], want: Mapping[str, Any], *rest: Any) -> None:
        try:
            check(clause_id, stored, want, *rest)
        except Violation as violation:
            excuse(profile, requests, violation, stored, want)
            raise

    return judged


def excuse(
    profile: Profile,
    requests: Iterable[Request],
    violation: Violation,
    stored: Mapping[str, Any],
    want: Mapping[str, Any],
) -> None:
    """Make `violation` a SHOULD-level deviation when the vendor's own aliases, sent in `requests`, explain
    every field the read-back shows otherwise than `want` (a read-back check's finding, or the state oracle's)."""
    found = explaining(profile, requests, stored, want)
    if found:
        names = ", ".join(f"`{a.name}` as `{a.field}`" for a in found)
        violation.deviation = f"{profile.version} takes {names}: a name the vendor itself uses, not the document's"
        violation.rests_on(tuple(s for a in found for s in a.sources))
