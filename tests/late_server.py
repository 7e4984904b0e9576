"""`python -m tests.late_server [fpjs-refserver options]`: the reference server, broken where only
another clause's random examples reach: it matches the auth scheme word case-sensitively (UE-AUTH-08)
on requests for an event it does not hold. The coverage table's scheme cases go to the designated
event, so the table never sees it; the random examples of the id clauses (unknown ids, varied
credentials) do, after the auth clauses' tests in the run's order."""

from fpjs_conformance.refserver.__main__ import main
from fpjs_conformance.refserver.app import MALFORMED, ReferenceServer


class LateSchemeCaseSensitive(ReferenceServer):
    def authenticate(self, request, d):
        if request.path_params.get("event_id") not in self.events:
            for place in d.places:
                value = request.headers.get(place.field, "").strip()
                word = value.split(" ", 1)[0]
                if place.scheme and word.lower() == place.scheme.lower() and word != place.scheme:
                    raise self.error(d, "unreadable_key", MALFORMED)
        super().authenticate(request, d)


if __name__ == "__main__":
    main(server_class=LateSchemeCaseSensitive)
