"""What a failed contract test shows: each violation as a one-line summary plus its evidence (the clause's
requirement in the version's words, the request, the response, the replay and rerun lines), and pytest's
report scrubbed of the secrets before it is printed or stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from fpjs_conformance import clauses
from fpjs_conformance.checks import Violation, Violations
from fpjs_conformance.redact import scrub
from fpjs_conformance.runstate import rerun_line

if TYPE_CHECKING:
    from fpjs_conformance.run import Run


def of(run: Run, exc: BaseException) -> str | None:
    """The failure text of a test that raised `exc`, with Hypothesis's notes (its example, its seed); None when
    `exc` holds no violation (pytest's own text stays)."""
    found = violations_in(exc)
    if not found:
        return None
    text = "\n\n".join(format_violation(run, v) for v in found)
    notes = [n for n in getattr(exc, "__notes__", []) if n.strip()]
    if notes:
        note_lines = "\n".join(notes).strip().splitlines()
        text += "\n  hypothesis " + "\n             ".join(line.rstrip() for line in note_lines if line.strip())
    return text


def violations_in(exc: BaseException) -> list[Violation]:
    if isinstance(exc, Violation):
        return [exc]
    if isinstance(exc, Violations):
        return list(exc.found)
    if isinstance(exc, BaseExceptionGroup):
        return [v for sub in exc.exceptions for v in violations_in(sub)]
    return []


def format_violation(run: Run, v: Violation) -> str:
    clause = clauses.get(v.clause_id)
    target = run.targets.get(v.version)
    requirement = clause.requirement(target.profile) if target else clause.requirement_template
    judged = f" (check {v.check})" if v.check else ""
    lines = [v.summary(), f"  clause    {clause.id} [{clause.level}] {requirement}{judged}"]
    if v.differences:
        lines.append(f"  differs   {'; '.join(v.differences)}")
    ex = v.exchange
    if ex is not None:
        headers = " ".join(f"{k}: {val}" for k, val in ex.headers.items()) or "(none)"
        lines.append(f"  request   {ex.method} {ex.url}  headers: {headers}")
        if ex.request.op != "read":
            lines.append(f"  body      {ex.request.body.describe(400)}")
        if ex.error:
            lines.append(f"  response  none: {ex.error}")
        else:
            ctype = ex.response_headers.get("content-type", "(no content type)")
            lines.append(f"  response  {ex.status} {ctype} after {ex.attempts} attempt(s): {ex.body_excerpt(400)}")
        if v.cause is not None:
            lines.append(f"  cause     likely the last accepted write before it: {v.cause.describe_request()}")
            lines.append(f"  replay    export FPJS_API_KEY=...; {v.cause.curl}; {ex.curl}")
        else:
            lines.append(f"  replay    export FPJS_API_KEY=...; {ex.curl}")
    lines.append(f"  rerun     {rerun_line(run, v.clause_id, v.version)}")
    return "\n".join(lines)


def scrub_report(report: pytest.TestReport, secrets: list[str]) -> None:
    """No secret leaves through pytest's reports: failure text and captured output are scrubbed.

    A skip's (path, line, reason) keeps its shape: pytest's own summary (`-rs`) relies on it.
    """
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        report.longrepr = (longrepr[0], longrepr[1], scrub(str(longrepr[2]), secrets))
    elif longrepr is not None:
        text = str(longrepr)
        cleaned = scrub(text, secrets)
        if cleaned != text:
            report.longrepr = cleaned
    report.sections = [(title, scrub(body, secrets)) for title, body in report.sections]
