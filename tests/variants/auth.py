"""Auth mutants: credentials ignored, wrong 403 codes, keys that should not work, one scheme not
honoured, authentication done after the body or the id."""

from refserver import Answer, ReferenceServer
from tests.variants import mutant


@mutant("auth-ignored", "UE-AUTH-01", "UE-AUTH-02", "UE-AUTH-03", "UE-AUTH-07")
class AuthIgnored(ReferenceServer):
    """Never checks credentials."""

    def authenticate(self, request):
        return None


@mutant("any-key-accepted", "UE-AUTH-03")
class AnyKeyAccepted(ReferenceServer):
    """Checks only that some key is present, not which."""

    def authenticate(self, request):
        if self.credentials(request):
            return
        super().authenticate(request)


@mutant("missing-key-token-not-found", "UE-AUTH-01", "UE-AUTH-02")
class MissingKeyTokenNotFound(ReferenceServer):
    """Answers TokenNotFound where TokenRequired is due (no key at all)."""

    def authenticate(self, request):
        if not self.credentials(request):
            raise self.error(403, "TokenNotFound", "secret key is not found")
        super().authenticate(request)


@mutant("empty-key-token-not-found", "UE-AUTH-02")
class EmptyKeyTokenNotFound(ReferenceServer):
    """Counts an empty key as a key, so it is looked up and not found."""

    def credentials(self, request):
        given = [request.headers.get("auth-api-key"), request.query_params.get("api_key")]
        return [key.strip() for key in given if key is not None]


@mutant("wrong-key-token-required", "UE-AUTH-03")
class WrongKeyTokenRequired(ReferenceServer):
    """Answers TokenRequired for a key that is present but wrong."""

    def authenticate(self, request):
        keys = self.credentials(request)
        if keys and self.settings.api_key not in keys and not set(keys) & set(self.settings.wrong_region_api_keys):
            raise self.error(403, "TokenRequired", "secret key is required")
        super().authenticate(request)


@mutant("wrong-key-echoed", "UE-AUTH-03")
class WrongKeyEchoed(ReferenceServer):
    """Answers TokenRequired for a wrong key and quotes the key it got (near misses of the secret)."""

    def authenticate(self, request):
        keys = self.credentials(request)
        if keys and self.settings.api_key not in keys and not set(keys) & set(self.settings.wrong_region_api_keys):
            raise self.error(403, "TokenRequired", f"secret key {keys[0]!r} is required")
        super().authenticate(request)


@mutant("truncated-key-accepted", "UE-AUTH-03")
class TruncatedKeyAccepted(ReferenceServer):
    """Accepts any prefix of the key (compares only as many characters as were sent)."""

    def authenticate(self, request):
        if any(self.settings.api_key.startswith(key) for key in self.credentials(request)):
            return
        super().authenticate(request)


@mutant("extended-key-accepted", "UE-AUTH-03")
class ExtendedKeyAccepted(ReferenceServer):
    """Accepts any key that starts with the real one (compares only the real key's length)."""

    def authenticate(self, request):
        if any(key.startswith(self.settings.api_key) for key in self.credentials(request)):
            return
        super().authenticate(request)


@mutant("case-insensitive-key", "UE-AUTH-03")
class CaseInsensitiveKey(ReferenceServer):
    """Compares keys case-insensitively."""

    def authenticate(self, request):
        if any(key.lower() == self.settings.api_key.lower() for key in self.credentials(request)):
            return
        super().authenticate(request)


@mutant("empty-query-key-accepted", "UE-AUTH-02")
class EmptyQueryKeyAccepted(ReferenceServer):
    """Lets `?api_key=` (present but empty) through: presence is checked, not the value."""

    def authenticate(self, request):
        if "api_key" in request.query_params and not request.query_params["api_key"].strip():
            return
        super().authenticate(request)


@mutant("header-only-auth", "UE-AUTH-05", "UE-AUTH-03")
class HeaderOnlyAuth(ReferenceServer):
    """Ignores the api_key query parameter (only the header scheme is honoured)."""

    def credentials(self, request):
        key = request.headers.get("auth-api-key", "").strip()
        return [key] if key else []


@mutant("query-only-auth", "UE-AUTH-04", "UE-AUTH-03")
class QueryOnlyAuth(ReferenceServer):
    """Ignores the Auth-API-Key header (only the query scheme is honoured)."""

    def credentials(self, request):
        key = request.query_params.get("api_key", "").strip()
        return [key] if key else []


@mutant("wrong-region-not-found", "UE-AUTH-06")
class WrongRegionNotFound(ReferenceServer):
    """Does not recognise other regions' keys: TokenNotFound instead of WrongRegion."""

    def authenticate(self, request):
        keys = self.credentials(request)
        if keys and self.settings.api_key not in keys:
            raise self.error(403, "TokenNotFound", "secret key is not found")
        super().authenticate(request)


@mutant("wrong-region-accepted", "UE-AUTH-06")
class WrongRegionAccepted(ReferenceServer):
    """Accepts another region's key as if it were this region's."""

    def authenticate(self, request):
        if set(self.credentials(request)) & set(self.settings.wrong_region_api_keys):
            return
        super().authenticate(request)


@mutant("auth-after-body", "UE-AUTH-07")
class AuthAfterBody(ReferenceServer):
    """Parses the body before authenticating: a bad body without a key is answered 400."""

    async def put(self, request):
        try:
            update = self.parse_body(await request.body())
            self.authenticate(request)
            with self.lock:
                event = self.find_event(request.path_params["request_id"])
                self.check_mutable(event)
                self.apply(event, update)
            return self.ok()
        except Answer as answer:
            return answer.response


@mutant("auth-after-lookup", "UE-AUTH-07")
class AuthAfterLookup(ReferenceServer):
    """Looks the event up before authenticating: an unknown id without a key is answered 404."""

    async def put(self, request):
        try:
            with self.lock:
                self.find_event(request.path_params["request_id"])
            return await super().put(request)
        except Answer as answer:
            return answer.response
