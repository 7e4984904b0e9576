"""Response-shape mutants: error bodies that are not ErrorResponse, codes that do not fit, wrong
content types, statuses the operation does not declare."""

from starlette.responses import JSONResponse, Response

from refserver import Answer, ReferenceServer
from tests.variants import mutant


@mutant("extra-error-field", "UE-RESP-04")
class ExtraErrorField(ReferenceServer):
    """Adds a `details` property to the error object (the schema allows no others)."""

    def error(self, status, code, message):
        body = {"error": {"code": code, "message": message, "details": f"status {status}"}}
        return Answer(JSONResponse(body, status_code=status))


@mutant("missing-message", "UE-RESP-04")
class MissingMessage(ReferenceServer):
    """Leaves out the required error message."""

    def error(self, status, code, message):
        return Answer(JSONResponse({"error": {"code": code}}, status_code=status))


@mutant("error-not-wrapped", "UE-RESP-04")
class ErrorNotWrapped(ReferenceServer):
    """Sends {code, message} at the top level instead of inside `error`."""

    def error(self, status, code, message):
        return Answer(JSONResponse({"code": code, "message": message}, status_code=status))


@mutant("code-outside-enum", "UE-RESP-04")
class CodeOutsideEnum(ReferenceServer):
    """Spells TokenRequired as TokenMissing, a code outside the ErrorCode enum."""

    def error(self, status, code, message):
        return super().error(status, "TokenMissing" if code == "TokenRequired" else code, message)


@mutant("not-found-token-not-found", "UE-RESP-05", "UE-ID-01")
class NotFoundTokenNotFound(ReferenceServer):
    """Answers 404 with code TokenNotFound (a code that does not fit the status)."""

    def error(self, status, code, message):
        return super().error(status, "TokenNotFound" if status == 404 else code, message)


@mutant("bad-request-code-failed", "UE-RESP-05")
class BadRequestCodeFailed(ReferenceServer):
    """Answers a bad body with 400 Failed instead of 400 RequestCannotBeParsed."""

    def error(self, status, code, message):
        return super().error(status, "Failed" if code == "RequestCannotBeParsed" else code, message)


@mutant("text-plain-errors", "UE-RESP-03")
class TextPlainErrors(ReferenceServer):
    """Sends the right JSON text with Content-Type text/plain."""

    def error(self, status, code, message):
        answer = super().error(status, code, message)
        return Answer(Response(answer.response.body, status_code=status, media_type="text/plain"))


@mutant("html-errors", "UE-RESP-03")
class HtmlErrors(ReferenceServer):
    """Sends an HTML error page."""

    def error(self, status, code, message):
        page = f"<html><body><h1>{status} {code}</h1><p>{message}</p></body></html>"
        return Answer(Response(page, status_code=status, media_type="text/html"))


@mutant("non-json-error-body", "UE-RESP-03")
class NonJsonErrorBody(ReferenceServer):
    """Declares application/json but sends plain text."""

    def error(self, status, code, message):
        return Answer(Response(f"{code}: {message}", status_code=status, media_type="application/json"))


@mutant("unauthorized-401", "UE-RESP-01")
class Unauthorized401(ReferenceServer):
    """Answers missing or wrong credentials with 401 (undeclared) instead of 403."""

    def error(self, status, code, message):
        return super().error(401 if status == 403 else status, code, message)


@mutant("unprocessable-422", "UE-RESP-01")
class Unprocessable422(ReferenceServer):
    """Answers a bad body with 422 (undeclared) instead of 400."""

    def error(self, status, code, message):
        return super().error(422 if code == "RequestCannotBeParsed" else status, code, message)


@mutant("created-201", "UE-RESP-01")
class Created201(ReferenceServer):
    """Answers a successful update with 201 (undeclared) instead of 200."""

    def ok(self):
        return Response(status_code=201)


@mutant("not-found-500", "UE-RESP-02")
class NotFound500(ReferenceServer):
    """Answers an unknown id with 500 (with a well-formed error body)."""

    def error(self, status, code, message):
        return super().error(500 if status == 404 else status, code, message)
