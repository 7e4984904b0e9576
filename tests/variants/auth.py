"""Auth mutants: credentials ignored, wrong 403 codes, keys that should not work, one place not
honoured, schemes judged wrongly, retired places honoured, authentication done after the body or
the id. (Header-name case cannot be broken behind ASGI, which lowercases names: tests/test_hostile.py
breaks it with a raw-socket proxy.)"""

from fpjs_conformance.refserver import ReferenceServer
from fpjs_conformance.refserver.app import MALFORMED
from tests.variants import mutant


@mutant("auth-ignored", "UE-AUTH-01", "UE-AUTH-02", "UE-AUTH-03", "UE-AUTH-07")
class AuthIgnored(ReferenceServer):
    """Never checks credentials."""

    def authenticate(self, request, d):
        return None


@mutant("any-key-accepted", "UE-AUTH-03")
class AnyKeyAccepted(ReferenceServer):
    """Checks only that some key is present, not which."""

    def authenticate(self, request, d):
        if self.credentials(request, d):
            return
        super().authenticate(request, d)


@mutant("missing-key-wrong-code", "UE-AUTH-01", "UE-AUTH-02")
class MissingKeyWrongCode(ReferenceServer):
    """Answers the unknown-key code where the missing-key code is due (no key at all)."""

    def authenticate(self, request, d):
        if not self.credentials(request, d):
            raise self.error(d, "wrong_key", "secret key is not found")
        super().authenticate(request, d)


@mutant("empty-key-counted", "UE-AUTH-02")
class EmptyKeyCounted(ReferenceServer):
    """Counts a present but empty key as a key, so it is looked up and not found."""

    def credentials(self, request, d):
        keys = []
        for place in d.places:
            source = request.query_params if place.location == "query" else request.headers
            if place.field in source:
                keys.append(self.scheme_value(source[place.field], place).strip())
        return keys


@mutant("empty-key-accepted", "UE-AUTH-02")
class EmptyKeyAccepted(ReferenceServer):
    """Lets a present but empty key place through: presence is checked, not the value."""

    def authenticate(self, request, d):
        for place in d.places:
            source = request.query_params if place.location == "query" else request.headers
            if place.field in source and not source[place.field].strip():
                return
        super().authenticate(request, d)


@mutant("wrong-key-missing-code", "UE-AUTH-03")
class WrongKeyMissingCode(ReferenceServer):
    """Answers the missing-key code for a key that is present but wrong."""

    def authenticate(self, request, d):
        keys = self.credentials(request, d)
        if keys and self.settings.api_key not in keys and not set(keys) & set(self.settings.wrong_region_api_keys):
            raise self.error(d, "missing_key", "secret key is required")
        super().authenticate(request, d)


@mutant("wrong-key-echoed", "UE-AUTH-03")
class WrongKeyEchoed(ReferenceServer):
    """Answers the missing-key code for a wrong key and quotes the key it got (near misses of the secret)."""

    def authenticate(self, request, d):
        keys = self.credentials(request, d)
        if keys and self.settings.api_key not in keys and not set(keys) & set(self.settings.wrong_region_api_keys):
            raise self.error(d, "missing_key", f"secret key {keys[0]!r} is required")
        super().authenticate(request, d)


@mutant("truncated-key-accepted", "UE-AUTH-03")
class TruncatedKeyAccepted(ReferenceServer):
    """Accepts any prefix of the key (compares only as many characters as were sent)."""

    def authenticate(self, request, d):
        if any(self.settings.api_key.startswith(key) for key in self.credentials(request, d)):
            return
        super().authenticate(request, d)


@mutant("extended-key-accepted", "UE-AUTH-03")
class ExtendedKeyAccepted(ReferenceServer):
    """Accepts any key that starts with the real one (compares only the real key's length)."""

    def authenticate(self, request, d):
        if any(key.startswith(self.settings.api_key) for key in self.credentials(request, d)):
            return
        super().authenticate(request, d)


@mutant("case-insensitive-key", "UE-AUTH-03")
class CaseInsensitiveKey(ReferenceServer):
    """Compares keys case-insensitively."""

    def authenticate(self, request, d):
        if any(key.lower() == self.settings.api_key.lower() for key in self.credentials(request, d)):
            return
        super().authenticate(request, d)


@mutant("query-place-ignored", "UE-AUTH-05", "UE-AUTH-03", versions=("v3",))
class QueryPlaceIgnored(ReferenceServer):
    """Ignores the query key place (only headers are read)."""

    def credentials(self, request, d):
        d2 = type("HeaderOnly", (), {"places": tuple(p for p in d.places if p.location == "header")})
        return super().credentials(request, d2)


@mutant("header-place-ignored", "UE-AUTH-04", "UE-AUTH-03", versions=("v3",))
class HeaderPlaceIgnored(ReferenceServer):
    """Ignores the header key place (only the query parameter is read). Under a version whose only
    place is the header nothing would authenticate: the preflight stops such a run as a setup problem."""

    def credentials(self, request, d):
        d2 = type("QueryOnly", (), {"places": tuple(p for p in d.places if p.location == "query")})
        return super().credentials(request, d2)


@mutant("wrong-region-not-found", "UE-AUTH-06")
class WrongRegionNotFound(ReferenceServer):
    """Does not recognise other regions' keys: the unknown-key code instead of the wrong-region one."""

    def authenticate(self, request, d):
        keys = self.credentials(request, d)
        if keys and self.settings.api_key not in keys:
            raise self.error(d, "wrong_key", "secret key is not found")
        super().authenticate(request, d)


@mutant("wrong-region-accepted", "UE-AUTH-06")
class WrongRegionAccepted(ReferenceServer):
    """Accepts another region's key as if it were this region's."""

    def authenticate(self, request, d):
        if set(self.credentials(request, d)) & set(self.settings.wrong_region_api_keys):
            return
        super().authenticate(request, d)


@mutant("auth-after-body", "UE-AUTH-07")
class AuthAfterBody(ReferenceServer):
    """Parses the body before authenticating: a bad body without a key is answered 400."""

    REFUSALS = ("body", "key", "event")


@mutant("auth-after-lookup", "UE-AUTH-07")
class AuthAfterLookup(ReferenceServer):
    """Looks the event up before authenticating: an unknown id without a key is answered 404."""

    REFUSALS = ("event", "key", "body")


# -- the scheme before the key, header names, retired places ---------------------------------------
@mutant("scheme-case-sensitive", "UE-AUTH-08")
class SchemeCaseSensitive(ReferenceServer):
    """Takes the key only after the scheme spelled exactly as documented (`bearer` is refused)."""

    def scheme_value(self, value, place):
        if place.scheme and value.strip() and not value.strip().startswith(place.scheme + " "):
            return MALFORMED
        return super().scheme_value(value, place)


@mutant("bare-key-accepted", "UE-AUTH-09")
class BareKeyAccepted(ReferenceServer):
    """Takes a header value without the scheme as the key itself."""

    def scheme_value(self, value, place):
        found = super().scheme_value(value, place)
        return value.strip() if found == MALFORMED and " " not in value.strip() else found


@mutant("any-scheme-accepted", "UE-AUTH-09")
class AnySchemeAccepted(ReferenceServer):
    """Takes whatever follows the first word as the key, whatever the scheme (`Basic <key>` works)."""

    def scheme_value(self, value, place):
        if place.scheme and " " in value.strip():
            return value.strip().partition(" ")[2].strip()
        return super().scheme_value(value, place)


@mutant("retired-header-honoured", "UE-AUTH-10")
class RetiredHeaderHonoured(ReferenceServer):
    """Still takes the key from the header an earlier version used."""

    def credentials(self, request, d):
        keys = super().credentials(request, d)
        return keys + [v for p, v in self._retired(request, d) if p.location == "header"]

    def _retired(self, request, d):
        from fpjs_conformance import profile as profiles

        places = profiles.load(d.version).retired_places
        for place in places:
            source = request.query_params if place.location == "query" else request.headers
            if source.get(place.field, "").strip():
                yield place, source[place.field].strip()


@mutant("retired-query-honoured", "UE-AUTH-10")
class RetiredQueryHonoured(RetiredHeaderHonoured):
    """Still takes the key from the query parameter an earlier version used (a key in a URL)."""

    def credentials(self, request, d):
        keys = ReferenceServer.credentials(self, request, d)
        return keys + [v for p, v in self._retired(request, d) if p.location == "query"]
