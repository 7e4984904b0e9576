"""Event-id mutants: unknown ids accepted or answered wrongly, odd ids crashing, events past the
update window updated."""

from fpjs_conformance.refserver import ReferenceServer
from tests.variants import mutant


@mutant("unknown-id-accepted", "UE-ID-01")
class UnknownIdAccepted(ReferenceServer):
    """Answers 200 for an unknown id (falls back to the designated event)."""

    def find_event(self, event_id, d):
        return self.events.get(event_id) or self.events[self.settings.request_id]


@mutant("unknown-id-crash", "UE-RESP-02", "UE-ID-01")
class UnknownIdCrash(ReferenceServer):
    """Crashes (500) on an unknown id: a plain dictionary lookup."""

    def find_event(self, event_id, d):
        return self.events[event_id]


@mutant("unknown-id-bad-request", "UE-ID-01")
class UnknownIdBadRequest(ReferenceServer):
    """Answers an unknown id with 400 and the bad-request code instead of 404 and the not-found code."""

    def find_event(self, event_id, d):
        if event_id not in self.events:
            raise self.error(d, "bad_request", "event id is not valid")
        return super().find_event(event_id, d)


@mutant("slash-id-crash", "UE-RESP-02", "UE-ID-02")
class SlashIdCrash(ReferenceServer):
    """Crashes (500) on an id containing a slash."""

    def find_event(self, event_id, d):
        if "/" in event_id:
            raise ValueError("unexpected path segment")
        return super().find_event(event_id, d)


@mutant("unicode-id-crash", "UE-RESP-02", "UE-ID-02")
class UnicodeIdCrash(ReferenceServer):
    """Crashes (500) on an id with non-ASCII characters."""

    def find_event(self, event_id, d):
        event_id.encode("ascii")
        return super().find_event(event_id, d)


@mutant("long-id-crash", "UE-RESP-02", "UE-ID-02")
class LongIdCrash(ReferenceServer):
    """Crashes (500) on an id longer than 80 characters."""

    def find_event(self, event_id, d):
        if len(event_id) > 80:
            raise OverflowError("event id does not fit the column")
        return super().find_event(event_id, d)


@mutant("expired-accepted", "UE-ID-03")
class ExpiredAccepted(ReferenceServer):
    """Updates events of any age (the update window is not enforced)."""

    def check_mutable(self, event, d):
        if event.not_ready_for > 0:
            event.not_ready_for -= 1
            raise self.error(d, "not_ready", "resource is not mutable yet, try again")
