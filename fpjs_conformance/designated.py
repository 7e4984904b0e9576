"""The designated event as this run knows it, and its journal.

Every version's target updates the same event, so they share one `EventState`: the event's fields
before the run, every value the run sent to it, what the run last left in it, and how the server
stores what it was sent. Fields are keyed by the store names one event has across versions
(`Profile.to_store`).

The journal (`reports/restore.json`) is the state on disk: the original values, written before the
first write, and a digest of every value sent, written before it is sent. Whatever ends a run (a
timeout, a spent budget, a signal, SIGKILL), it says what to put back, and `--restore-from` does it;
a later run that finds it unfinished stops before it writes instead of taking leftovers for the
original.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNKNOWN = object()  # a field's stored value after a write the server should have refused
JOURNAL = "restore.json"
FORMAT = "fpjs-restore/1"
# Journal states that leave the event as found (or say why there is nothing to put back).
FINISHED = frozenset({"restored", "partly restored", "unchanged", "off"})
NOT_FINISHED = "could not restore"  # the restore began and could not end (or could not be sure it did)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()[:16]


@dataclass
class Journal:
    """reports/restore.json of this run (see the module docstring)."""

    path: Path
    data: dict[str, Any]
    failed: str | None = None  # why the journal could not be kept up to date (the run goes on; the end says so)
    kept_aside: Path | None = None  # an unfinished journal of another target, event or key found in its place

    @classmethod
    def begin(cls, report_dir: Path, *, provenance: dict, target: str, version: str, original: dict, embedded: bool):
        """Write the original values before the first write. A journal already there that this run does
        not continue is kept beside it (`restore-<time>.json`), never overwritten; `kept_aside` names it."""
        path = report_dir / JOURNAL
        earlier = read(path)
        kept = None
        if earlier is not None and earlier.get("state") not in FINISHED and not earlier.get("embedded"):
            kept = report_dir / f"restore-{int(time.time())}-{os.getpid()}.json"
            path.replace(kept)
        data = {
            "format": FORMAT,
            "state": "open",
            "provenance": provenance,  # api root, event, key fingerprint: what --restore-from checks
            "event_id": provenance["event_id"],
            "targets": {version: target},
            "version": version,  # the version whose names `original` is read back in (store names)
            "original": original,
            "embedded": embedded,
            "pid": os.getpid(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sent": {},
        }
        journal = cls(path, data)
        journal.kept_aside = kept
        journal._write()
        if journal.failed:
            raise OSError(journal.failed)
        return journal

    def add_target(self, version: str, target: str) -> None:
        self.data["targets"][version] = target
        self._write()

    def sending(self, fields: dict[str, Any]) -> None:
        """Before a write is sent: the digest of each value, so the restore can tell the run's own values."""
        new = False
        for k, value in fields.items():
            known = self.data["sent"].setdefault(k, [])
            d = digest(value)
            if d not in known:
                known.append(d)
                new = True
        if new:
            self._write()

    def other_written(self, event_id: str, fields: dict[str, Any]) -> None:
        """An update of another event the user designated (the not-ready one) was accepted: it is not restored
        (the run never read it), but it is on record, with the digests of what it set."""
        seen = self.data.setdefault("other_events", {}).setdefault(event_id, {})
        for k, value in fields.items():
            known = seen.setdefault(k, [])
            if digest(value) not in known:
                known.append(digest(value))
        self._write()

    def finish(self, outcome: dict[str, Any]) -> None:
        self.data["state"] = outcome.get("status", NOT_FINISHED)
        self.data["outcome"] = outcome
        self.data["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._write()

    @property
    def finished(self) -> bool:
        return self.data["state"] in FINISHED

    def _write(self) -> None:
        """Atomically: a run killed while writing leaves the previous journal whole."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(self.data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            self.failed = f"cannot write the journal {self.path}: {exc.strerror or exc}"


def read(path: Path) -> dict[str, Any] | None:
    """A journal's data, or None when there is none (or the file is not one)."""
    with contextlib.suppress(OSError, ValueError, UnicodeDecodeError):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format") == FORMAT:
            return data
    return None


def unfinished(report_dir: Path, provenance: dict[str, Any]) -> dict[str, Any] | None:
    """The journal in `report_dir` of a run that did not leave this event as found: matched by what it names
    (the API root, the event and the key's fingerprint), however its URLs were spelled or versioned."""
    data = read(report_dir / JOURNAL)
    if data is None or data.get("embedded") or data.get("state") in FINISHED:
        return None
    recorded = data.get("provenance")
    if not isinstance(recorded, dict):  # a journal of 0.3: its event alone decides (the careful side)
        return data if data.get("event_id") == provenance.get("event_id") else None
    same = all(recorded.get(k) == provenance.get(k) for k in ("api_root", "event_id", "key"))
    return data if same else None


@dataclass
class EventState:
    """The designated event's fields before the run, what the run sent and last left in them."""

    original: dict[str, Any] | None = None
    written: dict[str, Any] = field(default_factory=dict)  # last accepted value (or UNKNOWN)
    # What the read-back last showed since the run's last accepted write: how the server stored it,
    # which may differ from what was written (a fault judged elsewhere, not another writer's doing).
    seen: dict[str, Any] | None = None
    # How the server stores what this run wrote, as read back: (field, value written) -> value read.
    stored_as: dict[tuple[str, str], Any] = field(default_factory=dict)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> canonical -> every value sent
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # sent since, but never answered
    unanswered: Counter = field(default_factory=Counter)  # (field, canonical) -> sends of it not answered yet
    awaiting: int = 0  # writes sent that got no answer (yet): any may still land
    read: bool = False  # the original was read (or could not be)
    yielded: bool = False  # another run of the suite claimed the event as this one started: it restores it
    wrote: bool = False  # an update of it was accepted (or may have been)
    landed: bool = False  # an update of it was accepted (answered 200)
    journal: Journal | None = None
    touches: list = field(default_factory=list)  # every request that may have touched it (`state.Touch`), in order

    def remember_storage(self, seen: dict[str, Any]) -> None:
        self.seen = seen
        for k, wrote in self.written.items():
            if wrote is not UNKNOWN:
                self.stored_as[k, canonical(wrote)] = seen.get(k)

    def known(self) -> dict[str, Any]:
        """What the read-back should show of each field the run knows (not after a write it cannot know)."""
        out = {k: self.expected(k) for k in self.written}
        return {k: v for k, v in out.items() if v is not UNKNOWN}

    def expected(self, k: str) -> Any:
        """What the read-back should show of field `k` if nobody else wrote it since this run did."""
        wrote = self.written.get(k)
        if wrote is UNKNOWN:
            return UNKNOWN
        return self.stored_as.get((k, canonical(wrote)), wrote)

    # -- writes, as they go out and come back ---------------------------------------------------------
    def sending(self, fields: dict[str, Any]) -> None:
        """A write of these fields is about to be sent: on record first (journal included)."""
        for k, value in fields.items():
            c = canonical(value)
            self.sent.setdefault(k, {})[c] = value
            self.pending.setdefault(k, {})[c] = value
            self.unanswered[k, c] += 1
        self.awaiting += 1
        if fields:
            self.wrote = True  # it may be applied whatever comes back
        if self.journal is not None:
            self.journal.sending(fields)

    def refused(self, fields: dict[str, Any]) -> None:
        """The write was answered, and not with 200: a correct server did not apply it (an earlier send of
        the same value that got no answer stays pending: that one may have been applied)."""
        self.awaiting -= 1
        for k, value in fields.items():
            c = canonical(value)
            self.unanswered[k, c] -= 1
            if self.unanswered[k, c] <= 0:
                del self.unanswered[k, c]
                self.pending.get(k, {}).pop(c, None)

    def withdrawn(self, fields: dict[str, Any]) -> None:
        """The write was on record but never sent (the run stopped first): as if refused, none of it can land,
        so the restore waits for nothing."""
        self.refused(fields)

    def accepted(self, fields: dict[str, Any], *, trusted: bool) -> None:
        """An update of the event was answered 200 (`trusted`: as the contract says it should be)."""
        self.awaiting -= 1
        self.wrote = self.landed = True
        self.written.update(fields if trusted else dict.fromkeys(fields, UNKNOWN))
        for k in fields:
            self.pending.get(k, {}).clear()
        for k, c in [kc for kc in self.unanswered if kc[0] in fields]:
            del self.unanswered[k, c]
        self.seen = None

    def distrust(self, fields: dict[str, Any]) -> None:
        """An accepted write the server should have refused: what it stored of these fields is unknown."""
        self.written.update(dict.fromkeys(fields, UNKNOWN))
        self.seen = None

    # -- what a read-back shows -----------------------------------------------------------------------
    def explain(self, k: str, shown: Any) -> str:
        """How the value a read-back shows came to be: "expected" (what the run left), "pending" (a write
        whose answer never came), "unknown" (after a write the server should have refused), "stale" (an
        older value of the run's, or the original), "merged" or "normalized" (the server's storage of
        the run's own values), or "foreign" (nothing the run sent explains it: someone else wrote it)."""
        from fpjs_conformance.checks import same_json

        expected = self.expected(k)
        if expected is UNKNOWN:
            return "unknown"
        if same_json(shown, expected) or (self.seen is not None and same_json(shown, self.seen.get(k))):
            return "expected"
        c = canonical(shown)
        if c in self.pending.get(k, {}) or any(
            same_json(shown, self.stored_as.get((k, p))) for p in self.pending.get(k, {})
        ):
            return "pending"
        own = list(self.sent.get(k, {}).values()) + ([self.original[k]] if self.original and k in self.original else [])
        stored = [v for (f, _), v in self.stored_as.items() if f == k]
        if any(same_json(shown, v) for v in [*own, *stored]):
            return "stale"
        if isinstance(shown, dict) and _merged_from(shown, [v for v in own if isinstance(v, dict)]):
            return "merged"
        if isinstance(shown, str) and any(_transformed(shown, v) for v in own if isinstance(v, str)):
            return "normalized"
        return "foreign"


def _pairs(value: Any, path: tuple = ()) -> set[tuple]:
    if isinstance(value, dict) and value:
        return {p for key, sub in value.items() for p in _pairs(sub, (*path, key))}
    return {(path, canonical(value))}


def _merged_from(shown: dict, own: list[dict]) -> bool:
    """Every member of `shown` (nested members too) comes from one of the run's own objects."""
    have = set().union(*(_pairs(v) for v in own)) if own else set()
    return bool(own) and _pairs(shown) <= have


NORMAL_FORMS = ("NFC", "NFD", "NFKC", "NFKD")


def _transformed(shown: str, wrote: str) -> bool:
    """`shown` is `wrote` trimmed, cut short, case-folded or Unicode-normalized by the server's store."""
    if shown in (wrote.strip(), wrote.lstrip(), wrote.rstrip(), wrote.lower(), wrote.upper(), wrote.casefold()):
        return True
    if any(shown == unicodedata.normalize(form, wrote) for form in NORMAL_FORMS):
        return True
    return len(shown) >= 8 and wrote.startswith(shown)
