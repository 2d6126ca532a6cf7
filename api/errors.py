"""Every error is a `ProblemOut`: a one-line detail naming the field, never a stack trace."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.api import FieldError, ProblemOut
from models.errors import describe_error
from models.text import shown
from nighthawk.service.errors import ServiceError

log = logging.getLogger("nighthawk.api")

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemOut, "description": text}
    for code, text in (
        (401, "Missing or unknown bearer token"),
        (403, "The token's role may not do this"),
        (404, "Not found (or not visible to this token)"),
        (409, "Conflicts with the study's current state"),
        (413, "Request body too large"),
        (422, "Invalid input; `detail` names the field"),
    )
}


MAX_DETAIL = 300  # characters of a detail or message; a field name gets MAX_FIELD
MAX_FIELD = 200


def _small(errors: list[FieldError]) -> list[FieldError]:
    return [
        FieldError(field=shown(e.field, MAX_FIELD), message=shown(e.message, MAX_DETAIL))
        for e in errors
    ]


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    """The answer for an error. Whatever the request held, it stays small and printable: an
    echoed value or key is cut short and a lone surrogate in it is escaped."""
    if "errors" in extra:
        extra["errors"] = _small(extra["errors"])
    body = ProblemOut(detail=shown(detail, MAX_DETAIL), **extra).model_dump(mode="json")
    if body["study"] is None:
        del body["study"]  # named only by a conflict with a study
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _field(location: tuple[Any, ...]) -> tuple[Any, ...]:
    # FastAPI prefixes where the value came from; a user thinks in field names.
    return location[1:] if location and location[0] in {"body", "query", "path"} else location


MAX_LISTED_ERRORS = 20  # an error response stays small whatever the request held


async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    every = exc.errors()
    for error in every[:MAX_LISTED_ERRORS]:
        if error.get("type") == "json_invalid":
            errors.append(FieldError(field="body", message="is not valid JSON"))
            continue
        located = {**error, "loc": _field(tuple(error.get("loc", ())))}
        path, message = describe_error(located)  # type: ignore[arg-type]
        if not path and error.get("loc", ())[:1] == ("body",) and error["type"] == "missing":
            path, message = "body", "a JSON body is required"
        errors.append(FieldError(field=path or "body", message=message))
    first = errors[0] if errors else FieldError(field="body", message="invalid")
    more = max(0, len(every) - MAX_LISTED_ERRORS)
    return problem(422, f"{first.field}: {first.message}", errors=errors, more_errors=more)


async def on_service_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    errors = [FieldError(field=field, message=message) for field, message in exc.fields]
    return problem(exc.status, exc.detail, errors=errors, reasons=exc.reasons, study=exc.study)


def _allowed_methods(request: Request) -> str:
    """Every method some operation takes at this path, from the published schema (Starlette
    names only the first matching route's)."""
    path = request.url.path
    methods = {
        method.upper()
        for template, operations in request.app.openapi().get("paths", {}).items()
        if _template(template).fullmatch(path)
        for method in operations
    }
    return ", ".join(sorted(methods))


def _template(template: str) -> re.Pattern[str]:
    """'/v1/studies/{study_id}' -> a pattern matching any value of each parameter."""
    parts = re.split(r"\{[^}/]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's "error parsing the body" (bytes that are not UTF-8, say) is bad input.
        message = "is not valid UTF-8 JSON (or is nested too deeply)"
        return problem(422, f"body: {message}", errors=[FieldError(field="body", message=message)])
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    response = problem(exc.status_code, detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value  # a 401 keeps its WWW-Authenticate
    if exc.status_code == 405:
        response.headers["Allow"] = _allowed_methods(request)
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


class CatchAll:
    """The last line: an unexpected error becomes a 500 problem body on a live connection.

    Starlette's own handler for `Exception` re-raises after answering, which makes uvicorn
    drop the keep-alive connection; answering here keeps the client's connection usable.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            log.error(
                "internal error on %s %s: %r", scope["method"], scope["path"], error, exc_info=error
            )
            if started:
                raise  # too late for a clean answer
            response = problem(500, "internal error; the request was not applied")
            await response(scope, receive, send)


class BodySizeLimit:
    """Refuse bodies over the cap with 413, whether or not Content-Length says so."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        # Bodies are small (1 MiB cap), so read them whole before the app sees them: a
        # chunked upload over the cap is refused just like one that declares its length.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = ProblemOut(detail=f"body: larger than {self.max_bytes} bytes").model_dump_json()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})
