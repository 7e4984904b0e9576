"""Servers that serve fewer versions, or answer what one version's documents leave open: correct
servers (controls) the suite must pass under the versions they serve."""

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import ReferenceServer
from tests.variants import control

LATEST = profiles.versions()[-1]


@control("only-latest-version", versions=(LATEST,))
class OnlyLatestVersion(ReferenceServer):
    """Serves only the newest API version: every other version's paths answer 404 (a v4-only mock)."""

    def __init__(self, settings=None):
        super().__init__(settings)
        self.dialects = [d for d in self.dialects if d.version == LATEST]


@control(
    "invalid-id-refused-as-invalid",
    versions=tuple(v for v in profiles.versions() if profiles.load(v).role("invalid_event_id").open),
)
class InvalidIdRefusedAsInvalid(ReferenceServer):
    """Answers an id that is not of the live shape with the bad-request answer, as the GET on the same
    path documents for an invalid id, where the version leaves it open (v4)."""

    def find_event(self, event_id, d):
        live = profiles.load(d.version).live_id
        if event_id not in self.events and not live.match(event_id):
            raise self.error(
                d, "invalid_event_id", "the event id is not valid", status=400, code=d.roles["bad_request"].code
            )
        return super().find_event(event_id, d)
