"""Response-shape mutants: error bodies that are not ErrorResponse, codes that do not fit, wrong
content types, statuses the operation does not declare."""

from starlette.responses import JSONResponse, Response

from fpjs_conformance.refserver import Answer, ReferenceServer
from tests.variants import mutant


@mutant("extra-error-field", "UE-RESP-04", versions=("v3",))
class ExtraErrorField(ReferenceServer):
    """Adds a `details` property to the error object (v3's Error schema allows no others; v4's does)."""

    def error(self, d, status, role, message):
        code = d.codes.get(role, role)
        body = {"error": {"code": code, "message": message, "details": f"status {status}"}}
        return Answer(JSONResponse(body, status_code=status))


@mutant("missing-message", "UE-RESP-04")
class MissingMessage(ReferenceServer):
    """Leaves out the required error message."""

    def error(self, d, status, role, message):
        return Answer(JSONResponse({"error": {"code": d.codes.get(role, role)}}, status_code=status))


@mutant("error-not-wrapped", "UE-RESP-04")
class ErrorNotWrapped(ReferenceServer):
    """Sends {code, message} at the top level instead of inside `error`."""

    def error(self, d, status, role, message):
        return Answer(JSONResponse({"code": d.codes.get(role, role), "message": message}, status_code=status))


@mutant("code-outside-enum", "UE-RESP-04")
class CodeOutsideEnum(ReferenceServer):
    """Misspells the missing-key code: a code outside the ErrorCode enum."""

    def error(self, d, status, role, message):
        answer = super().error(d, status, role, message)
        if role == "missing_key":
            return Answer(JSONResponse({"error": {"code": d.codes[role] + "Missing", "message": message}}, status))
        return answer


@mutant("not-found-wrong-code", "UE-RESP-05", "UE-ID-01")
class NotFoundWrongCode(ReferenceServer):
    """Answers 404 with the unknown-key code (a code that does not fit the status)."""

    def error(self, d, status, role, message):
        return super().error(d, status, "wrong_key" if status == 404 else role, message)


@mutant("bad-request-wrong-code", "UE-RESP-05")
class BadRequestWrongCode(ReferenceServer):
    """Answers a bad body with 400 and the code it uses for expired events, which does not fit 400."""

    def error(self, d, status, role, message):
        return super().error(d, status, d.expired_answer[1] if role == "bad_request" else role, message)


@mutant("text-plain-errors", "UE-RESP-03")
class TextPlainErrors(ReferenceServer):
    """Sends the right JSON text with Content-Type text/plain."""

    def error(self, d, status, role, message):
        answer = super().error(d, status, role, message)
        return Answer(Response(answer.response.body, status_code=status, media_type="text/plain"))


@mutant("html-errors", "UE-RESP-03")
class HtmlErrors(ReferenceServer):
    """Sends an HTML error page."""

    def error(self, d, status, role, message):
        page = f"<html><body><h1>{status} {role}</h1><p>{message}</p></body></html>"
        return Answer(Response(page, status_code=status, media_type="text/html"))


@mutant("non-json-error-body", "UE-RESP-03")
class NonJsonErrorBody(ReferenceServer):
    """Declares application/json but sends plain text."""

    def error(self, d, status, role, message):
        return Answer(Response(f"{role}: {message}", status_code=status, media_type="application/json"))


@mutant("unauthorized-401", "UE-RESP-01")
class Unauthorized401(ReferenceServer):
    """Answers missing or wrong credentials with 401 (undeclared) instead of 403."""

    def error(self, d, status, role, message):
        return super().error(d, 401 if status == 403 else status, role, message)


@mutant("unprocessable-422", "UE-RESP-01")
class Unprocessable422(ReferenceServer):
    """Answers a bad body with 422 (undeclared) instead of 400."""

    def error(self, d, status, role, message):
        return super().error(d, 422 if role == "bad_request" else status, role, message)


@mutant("created-201", "UE-RESP-01")
class Created201(ReferenceServer):
    """Answers a successful update with 201 (undeclared) instead of 200."""

    def ok(self, d):
        return Response(status_code=201)


@mutant("not-found-500", "UE-RESP-02")
class NotFound500(ReferenceServer):
    """Answers an unknown id with 500 (with a well-formed error body)."""

    def error(self, d, status, role, message):
        return super().error(d, 500 if status == 404 else status, role, message)
