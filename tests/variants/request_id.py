"""Request-id mutants: unknown ids accepted or answered wrongly, odd ids crashing, expired events
updated."""

from refserver import ReferenceServer
from tests.variants import mutant


@mutant("unknown-id-accepted", "UE-ID-01")
class UnknownIdAccepted(ReferenceServer):
    """Answers 200 for an unknown id (falls back to the designated event)."""

    def find_event(self, request_id):
        return self.events.get(request_id) or self.events[self.settings.request_id]


@mutant("unknown-id-crash", "UE-RESP-02", "UE-ID-01")
class UnknownIdCrash(ReferenceServer):
    """Crashes (500) on an unknown id: a plain dictionary lookup."""

    def find_event(self, request_id):
        return self.events[request_id]


@mutant("unknown-id-bad-request", "UE-ID-01")
class UnknownIdBadRequest(ReferenceServer):
    """Answers an unknown id with 400 RequestCannotBeParsed instead of 404 RequestNotFound."""

    def find_event(self, request_id):
        if request_id not in self.events:
            raise self.error(400, "RequestCannotBeParsed", "request id is not valid")
        return super().find_event(request_id)


@mutant("slash-id-crash", "UE-RESP-02", "UE-ID-02")
class SlashIdCrash(ReferenceServer):
    """Crashes (500) on an id containing a slash."""

    def find_event(self, request_id):
        if "/" in request_id:
            raise ValueError("unexpected path segment")
        return super().find_event(request_id)


@mutant("unicode-id-crash", "UE-RESP-02", "UE-ID-02")
class UnicodeIdCrash(ReferenceServer):
    """Crashes (500) on an id with non-ASCII characters."""

    def find_event(self, request_id):
        request_id.encode("ascii")
        return super().find_event(request_id)


@mutant("long-id-crash", "UE-RESP-02", "UE-ID-02")
class LongIdCrash(ReferenceServer):
    """Crashes (500) on an id longer than 80 characters."""

    def find_event(self, request_id):
        if len(request_id) > 80:
            raise OverflowError("request id does not fit the column")
        return super().find_event(request_id)


@mutant("expired-accepted", "UE-ID-03")
class ExpiredAccepted(ReferenceServer):
    """Updates events of any age (the 10-day window is not enforced)."""

    def check_mutable(self, event):
        if event.not_ready_for > 0:
            event.not_ready_for -= 1
            raise self.error(409, "StateNotReady", "resource is not mutable yet, try again")
