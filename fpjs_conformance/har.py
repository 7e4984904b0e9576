"""The traffic of a run as HAR 1.2 (`reports/traffic.har`), which browsers' network panels and HTTP
clients import.

`harfile` (schemathesis's HAR writer) writes the standard part of each entry; the suite adds its own
under `_fpjs` (HAR allows `_`-prefixed fields): the API version, why the request was sent (`kind`:
preflight, coverage, random, read-back, restore, replay, proxy), the coverage case, the clauses it
informed and their verdicts, and the request in symbolic form, which `replay` rebuilds. Everything is
as redacted as every other report: URLs and headers carry `${FPJS_API_KEY}`, never the key, and the
text is scrubbed once more as a whole.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import harfile

from fpjs_conformance import __version__, redact
from fpjs_conformance.traffic import Record, Traffic

FILE = "traffic.har"
SUITE = "fpjs-update-event-conformance"


def _text(data: bytes, secrets: list[str]) -> dict[str, Any]:
    """HAR content: text where the bytes are UTF-8, else base64 (HAR's `encoding`): scrubbed as bytes first,
    so that no secret hides in base64."""
    data = redact.scrub_bytes(data, secrets)
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(data).decode("ascii"), "encoding": "base64"}


def _entry(har: harfile.HarFile, record: Record, secrets: list[str]) -> None:
    ex = record.exchange
    started = dt.datetime.fromtimestamp(record.started_at, tz=dt.UTC)
    body = ex.request.body.encode() if ex.request.op != "read" else None
    content_type = ex.headers.get("Content-Type", "")
    post = None
    if body is not None:
        text = _text(body, secrets)
        post = harfile.PostData(mimeType=content_type, text=text["text"], comment=text.get("encoding"))
    request = harfile.Request(
        method=ex.method,
        url=ex.url,
        httpVersion="HTTP/1.1",
        headers=[harfile.Record(name=k, value=v) for k, v in ex.headers.items()],
        queryString=[harfile.Record(name=k, value=v) for k, v in parse_qsl(urlsplit(ex.url).query)],
        postData=post,
        bodySize=len(body) if body is not None else 0,
    )
    media = ex.response_headers.get("content-type", "")
    content = _text(ex.body, secrets)
    response = harfile.Response(
        status=ex.status or 0,
        statusText="" if ex.error is None else ex.error,
        httpVersion="HTTP/1.1",
        headers=[harfile.Record(name=k, value=v) for k, v in ex.response_headers.items()],
        content=harfile.Content(size=len(ex.body), mimeType=media, **content),
        bodySize=len(ex.body),
    )
    millis = round(ex.elapsed * 1000, 3)
    har.add_entry(
        startedDateTime=started,
        time=millis,
        request=request,
        response=response,
        timings=harfile.Timings(send=0, wait=millis, receive=0),
    )


def to_har(records: list[Record], secrets: list[str] = ()) -> dict[str, Any]:
    """The HAR document of these records, with the suite's fields on each entry."""
    buffer = io.StringIO()
    creator = harfile.Creator(name=SUITE, version=__version__)
    with harfile.HarFile(buffer, creator=creator, comment="fpjs-update-event-conformance traffic") as har:
        for record in records:
            _entry(har, record, list(secrets))
    data = json.loads(buffer.getvalue())
    for entry, record in zip(data["log"]["entries"], records, strict=True):
        entry["_fpjs"] = {
            "version": record.version,
            "kind": record.kind,
            "case": record.case,
            "clauses": record.clauses,
            "verdicts": record.verdicts,
            "attempts": record.exchange.attempts,
            "retried": record.retried,
            "error": record.exchange.error,
            "request": record.request,
        }
        if record.cut:
            entry["_fpjs"]["cut"] = record.cut  # the bodies kept only in part: their first bytes, and their sizes
    return data


def write(path: Path, traffic: Traffic, secrets: list[str]) -> Path:
    """Write the traffic as HAR to `path`, scrubbed: one entry per line (json's C encoder: `indent` would
    make it pure Python, seconds for a run's megabytes). Its provenance (per version: the API root, the
    designated event, the key's fingerprint) goes in the log's `_fpjs`, for a replay to check."""
    log = to_har(traffic.records, secrets)["log"]
    log["_fpjs"] = {"provenance": traffic.provenance}
    entries = log.pop("entries")
    head = "".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}, " for k, v in log.items())
    lines = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    text = f'{{"log": {{{head}"entries": [\n{lines}\n]}}}}\n'
    path.write_text(redact.scrub(text, secrets), encoding="utf-8")
    return path


def read(path: Path) -> list[dict[str, Any]]:
    """The suite's entries of a HAR file (those with `_fpjs`), in order; ValueError when it is not one."""
    return read_log(path)[1]


def read_log(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the provenance the suite wrote in the log, or None; the suite's entries, in order)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = data["log"]["entries"]
        meta = data["log"].get("_fpjs")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a HAR file ({type(exc).__name__}: {exc})") from None
    found = meta.get("provenance") if isinstance(meta, dict) else None
    return (found if isinstance(found, dict) else None), [
        e for e in entries if isinstance(e, dict) and isinstance(e.get("_fpjs"), dict)
    ]
