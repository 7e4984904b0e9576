"""Semantics mutants: updates answered 200 but not stored as the contract says, and repeats that
do not give the same outcome."""

import json

from starlette.responses import JSONResponse

from refserver import ReferenceServer
from tests.variants import mutant


@mutant("update-not-stored", "UE-SEM-01", "UE-SEM-02", "UE-SEM-03")
class UpdateNotStored(ReferenceServer):
    """Answers 200 but stores nothing."""

    def apply(self, event, update):
        return None


@mutant("stored-on-wrong-event", "UE-SEM-01", "UE-SEM-02", "UE-SEM-03")
class StoredOnWrongEvent(ReferenceServer):
    """Stores the update on another event (the expired one) than the one addressed."""

    def apply(self, event, update):
        super().apply(self.events[self.settings.expired_request_id], update)


@mutant("partial-update-wipes", "UE-SEM-02")
class PartialUpdateWipes(ReferenceServer):
    """Replaces the whole record: fields not sent are reset."""

    def apply(self, event, update):
        event.linked_id, event.tag, event.suspect = None, {}, None
        super().apply(event, update)


@mutant("tag-merged", "UE-SEM-03", "UE-SEM-01")
class TagMerged(ReferenceServer):
    """Merges a sent tag into the stored one instead of replacing it."""

    def apply(self, event, update):
        if isinstance(update.get("tag"), dict):
            update = {**update, "tag": {**event.tag, **update["tag"]}}
        super().apply(event, update)


@mutant("suspect-false-ignored", "UE-SEM-01")
class SuspectFalseIgnored(ReferenceServer):
    """Stores suspect only when it is true (a truthiness test)."""

    def apply(self, event, update):
        super().apply(event, {k: v for k, v in update.items() if k != "suspect" or v})


@mutant("linkedid-truncated", "UE-SEM-01")
class LinkedIdTruncated(ReferenceServer):
    """Stores at most 64 characters of linkedId (the documented limit is 256)."""

    def apply(self, event, update):
        if isinstance(update.get("linkedId"), str):
            update = {**update, "linkedId": update["linkedId"][:64]}
        super().apply(event, update)


def _fingerprint(event, update) -> tuple[str, str]:
    return event.request_id, json.dumps(update, sort_keys=True)


@mutant("repeat-rejected", "UE-SEM-04")
class RepeatRejected(ReferenceServer):
    """Refuses (400) an update identical to one already applied to the event."""

    def apply(self, event, update):
        seen = self.__dict__.setdefault("applied", set())
        if _fingerprint(event, update) in seen:
            raise self.error(400, "RequestCannotBeParsed", "this update was already applied")
        seen.add(_fingerprint(event, update))
        super().apply(event, update)


@mutant("repeat-error-body", "UE-SEM-04")
class RepeatErrorBody(ReferenceServer):
    """Answers an identical repeat with 200 but an error payload (failure reported in-band)."""

    async def put(self, request):
        response = await super().put(request)
        seen = self.__dict__.setdefault("answered", set())
        key = (request.path_params["request_id"], await request.body())
        if response.status_code == 200 and key in seen:
            return JSONResponse({"error": {"code": "Failed", "message": "already applied"}})
        if response.status_code == 200:
            seen.add(key)
        return response
