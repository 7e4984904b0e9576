"""Semantics mutants: updates answered 200 but not stored as the contract says, and repeats that
do not give the same outcome."""

from starlette.responses import JSONResponse

from fpjs_conformance.refserver import ReferenceServer
from tests.variants import answer_of, mutant


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
        event.values = {k: ({} if isinstance(v, dict) else None) for k, v in event.values.items()}
        super().apply(event, update)


@mutant("object-merged", "UE-SEM-03", "UE-SEM-01")
class ObjectMerged(ReferenceServer):
    """Merges a sent object into the stored one instead of replacing it."""

    def apply(self, event, update):
        merged = {
            k: {**event.values[k], **v} if isinstance(v, dict) and isinstance(event.values.get(k), dict) else v
            for k, v in update.items()
        }
        super().apply(event, merged)


@mutant("object-deep-merged", "UE-SEM-03", "UE-SEM-01")
class ObjectDeepMerged(ReferenceServer):
    """Merges a sent object into the stored one at every depth (a JSON-merge-patch store): the restore
    must name the merge under UE-SEM-03, never blame a concurrent writer."""

    def apply(self, event, update):
        def merge(old, new):
            if isinstance(old, dict) and isinstance(new, dict):
                return {**old, **{k: merge(old.get(k), v) for k, v in new.items()}}
            return new

        super().apply(event, {k: merge(event.values.get(k), v) for k, v in update.items()})


@mutant("nul-breaks-read-back", "UE-RESP-02", "UE-SEM-01")
class NulBreaksReadBack(ReferenceServer):
    """Stores a string with a NUL character, and from then on every read-back of the event fails with 500
    (the value broke its serializer): the failure must name the write that poisoned it."""

    async def get(self, request, d):
        event = self.events.get(request.path_params["event_id"])
        if event is not None and any(isinstance(v, str) and "\x00" in v for v in event.values.values()):
            return JSONResponse({"error": {"code": d.roles["bad_request"].code, "message": "x"}}, status_code=500)
        return await super().get(request, d)


@mutant("false-ignored", "UE-SEM-01")
class FalseIgnored(ReferenceServer):
    """Stores a boolean only when it is true (a truthiness test)."""

    def apply(self, event, update):
        super().apply(event, {k: v for k, v in update.items() if v is not False})


@mutant("string-truncated", "UE-SEM-01")
class StringTruncated(ReferenceServer):
    """Stores at most 64 characters of a string (the documented limit is higher)."""

    def apply(self, event, update):
        super().apply(event, {k: v[:64] if isinstance(v, str) else v for k, v in update.items()})


@mutant("repeat-rejected", "UE-SEM-04")
class RepeatRejected(ReferenceServer):
    """Refuses (400) an update identical to one the same API version already applied to the event."""

    async def update(self, request, d):
        seen = self.__dict__.setdefault("applied", set())
        key = (d.version, request.path_params["event_id"], await request.body())
        if key in seen:
            return self.error(d, "bad_request", "this update was already applied").response
        response = await super().update(request, d)
        if response.status_code == 200:
            seen.add(key)
        return response


@mutant("repeat-error-body", "UE-SEM-04")
class RepeatErrorBody(ReferenceServer):
    """Answers an identical repeat with 200 but an error payload (failure reported in-band)."""

    async def update(self, request, d):
        response = await super().update(request, d)
        seen = self.__dict__.setdefault("answered", set())
        key = (d.version, request.path_params["event_id"], await request.body())
        if response.status_code == 200 and key in seen:
            return JSONResponse({"error": {"code": answer_of(d, "bad_request")[1], "message": "already applied"}})
        if response.status_code == 200:
            seen.add(key)
        return response
