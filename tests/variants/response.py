"""Response-shape mutants: error bodies that are not ErrorResponse, codes that do not fit, wrong
content types, statuses the operation does not declare."""

from starlette.responses import JSONResponse, Response

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver import Answer, ReferenceServer
from tests.variants import answer_of, mutant


@mutant("extra-error-field", "UE-RESP-04", versions=("v3",))
class ExtraErrorField(ReferenceServer):
    """Adds a `details` property to the error object (v3's Error schema allows no others; v4's does)."""

    def error(self, d, role, message, *, status=None, code=None):
        status, code = answer_of(d, role, status, code)
        body = {"error": {"code": code, "message": message, "details": f"status {status}"}}
        return Answer(JSONResponse(body, status_code=status))


@mutant("missing-message", "UE-RESP-04")
class MissingMessage(ReferenceServer):
    """Leaves out the required error message."""

    def error(self, d, role, message, *, status=None, code=None):
        status, code = answer_of(d, role, status, code)
        return Answer(JSONResponse({"error": {"code": code}}, status_code=status))


@mutant("error-not-wrapped", "UE-RESP-04")
class ErrorNotWrapped(ReferenceServer):
    """Sends {code, message} at the top level instead of inside `error`."""

    def error(self, d, role, message, *, status=None, code=None):
        status, code = answer_of(d, role, status, code)
        return Answer(JSONResponse({"code": code, "message": message}, status_code=status))


@mutant("code-outside-enum", "UE-RESP-04")
class CodeOutsideEnum(ReferenceServer):
    """Misspells the missing-key code: a code outside the ErrorCode enum."""

    def error(self, d, role, message, *, status=None, code=None):
        if role == "missing_key":
            code = answer_of(d, role)[1] + "Missing"
        return super().error(d, role, message, status=status, code=code)


@mutant("not-found-wrong-code", "UE-RESP-05", "UE-ID-01")
class NotFoundWrongCode(ReferenceServer):
    """Answers 404 with the unknown-key code (a code that does not fit the status)."""

    def error(self, d, role, message, *, status=None, code=None):
        if answer_of(d, role, status)[0] == 404:
            code = answer_of(d, "wrong_key")[1]
        return super().error(d, role, message, status=status, code=code)


@mutant("bad-request-wrong-code", "UE-RESP-05")
class BadRequestWrongCode(ReferenceServer):
    """Answers a bad body with 400 and the not-found code, which does not fit 400."""

    def error(self, d, role, message, *, status=None, code=None):
        if role == "bad_request":
            code = answer_of(d, "unknown_event")[1]
        return super().error(d, role, message, status=status, code=code)


@mutant("malformed-body-other-code", "UE-BODY-04", "UE-BODY-02", "UE-BODY-03", "UE-BODY-05", "UE-RESP-05")
class MalformedBodyOtherCode(ReferenceServer):
    """Answers a bad body with 400 and another code of the same status (v4: payload_too_large), or, where
    the status has no other, another code of the enum: the code is judged per role, not per status."""

    def error(self, d, role, message, *, status=None, code=None):
        if role == "bad_request":
            p = profiles.load(d.version)
            mine = d.roles["bad_request"].code
            same_status = sorted(p.codes_by_status.get(400, set()) - {mine})
            code = (same_status or [c for c in p.error_codes if c != mine])[0]
        return super().error(d, role, message, status=status, code=code)


@mutant("text-plain-errors", "UE-RESP-03")
class TextPlainErrors(ReferenceServer):
    """Sends the right JSON text with Content-Type text/plain."""

    def error(self, d, role, message, *, status=None, code=None):
        answer = super().error(d, role, message, status=status, code=code).response
        return Answer(Response(answer.body, status_code=answer.status_code, media_type="text/plain"))


@mutant("html-errors", "UE-RESP-03")
class HtmlErrors(ReferenceServer):
    """Sends an HTML error page."""

    def error(self, d, role, message, *, status=None, code=None):
        status, code = answer_of(d, role, status, code)
        page = f"<html><body><h1>{status} {role}</h1><p>{message}</p></body></html>"
        return Answer(Response(page, status_code=status, media_type="text/html"))


@mutant("non-json-error-body", "UE-RESP-03")
class NonJsonErrorBody(ReferenceServer):
    """Declares application/json but sends plain text."""

    def error(self, d, role, message, *, status=None, code=None):
        status, code = answer_of(d, role, status, code)
        return Answer(Response(f"{role}: {message}", status_code=status, media_type="application/json"))


@mutant("unauthorized-401", "UE-RESP-01")
class Unauthorized401(ReferenceServer):
    """Answers missing or wrong credentials with 401 (undeclared) instead of 403."""

    def error(self, d, role, message, *, status=None, code=None):
        status = answer_of(d, role, status)[0]
        return super().error(d, role, message, status=401 if status == 403 else status, code=code)


@mutant("unprocessable-422", "UE-RESP-01")
class Unprocessable422(ReferenceServer):
    """Answers a bad body with 422 (undeclared) instead of 400."""

    def error(self, d, role, message, *, status=None, code=None):
        return super().error(d, role, message, status=422 if role == "bad_request" else status, code=code)


@mutant("created-201", "UE-RESP-01")
class Created201(ReferenceServer):
    """Answers a successful update with 201 (undeclared) instead of 200."""

    def ok(self, d):
        return Response(status_code=201)


@mutant("not-found-500", "UE-RESP-02")
class NotFound500(ReferenceServer):
    """Answers an unknown id with 500 (with a well-formed error body)."""

    def error(self, d, role, message, *, status=None, code=None):
        status = answer_of(d, role, status)[0]
        return super().error(d, role, message, status=500 if status == 404 else status, code=code)
