"""The variant catalogue (first entries; see tests/variants/__init__.py)."""

from refserver import ReferenceServer
from tests.variants import control, mutant


@mutant("auth-ignored", "UE-AUTH-01", "UE-AUTH-02", "UE-AUTH-03", "UE-AUTH-07")
class AuthIgnored(ReferenceServer):
    """Never checks credentials."""

    def authenticate(self, request):
        return None


@mutant("update-not-stored", "UE-SEM-01", "UE-SEM-02", "UE-SEM-03")
class UpdateNotStored(ReferenceServer):
    """Answers 200 but stores nothing."""

    def apply(self, event, update):
        return None


@mutant("null-accepted", "UE-BODY-02")
class NullAccepted(ReferenceServer):
    """Accepts null for a field (treated as absent)."""

    def validate(self, body):
        super().validate({k: v for k, v in body.items() if v is not None} or {"linkedId": ""})


@control("different-wording")
class DifferentWording(ReferenceServer):
    """Error messages in other words."""

    def error(self, status, code, message):
        return super().error(status, code, f"[{code}] something else entirely")
