"""A server of a version ported from the version before it that kept the older version's ways: what the
migration check (`fpjs-conformance migrate --fail-on-change`) must name, and the suite must fail."""

from fpjs_conformance import migration
from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import ReferenceServer
from tests.variants import mutant

# The versions with a predecessor (`[migration] from` in their profile).
SUCCESSORS = tuple(v for v in profiles.versions() if profiles.load(v).data.get("migration"))


@mutant("previous-version-codes", "UE-RESP-04", "UE-RESP-05", versions=SUCCESSORS)
class PreviousVersionCodes(ReferenceServer):
    """Answers every refusal with the code the version before gives the same role (v3's `TokenRequired`,
    `RequestCannotBeParsed`, ... under v4), as a server ported by renaming its routes only does."""

    def error(self, d, role, message, *, status=None, code=None):
        if d.version in SUCCESSORS and code is None:
            code = migration.load(d.version).source.role(role).code
        return super().error(d, role, message, status=status, code=code)
