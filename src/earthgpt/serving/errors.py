"""OpenAI-style errors: one exception type carrying the status and the ``{"error": {...}}`` body, and the handlers
that turn every failure (ours, pydantic's, Starlette's, an unexpected one) into that body."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from earthgpt.serving.protocol import ErrorBody, ErrorResponse

log = logging.getLogger(__name__)

__all__ = ["ApiError", "error_response", "install_handlers", "validation_error"]

_TYPES = {
    400: "invalid_request_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
}


class ApiError(Exception):
    """A request the server refuses: HTTP ``status``, a message naming the field and the fix, the OpenAI ``param``
    (the request field at fault) and ``code``; ``headers`` go out with the response (``Retry-After`` for 429)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        kind = _TYPES.get(self.status, "invalid_request_error" if self.status < 500 else "server_error")
        err = ErrorBody(message=self.message, type=kind, param=self.param, code=self.code)
        return ErrorResponse(error=err).model_dump()


def error_response(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


def validation_error(exc: ValidationError | RequestValidationError) -> ApiError:
    """The first schema violation as a 400 naming the field (``messages.0.content``) and what was expected."""
    errors = exc.errors()
    # of a union (content: a string or a list of parts) the deepest error is the one meant
    first = max(errors, key=lambda e: len(e.get("loc", ()))) if errors else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p != "body" and not _is_branch(p)]
    param = ".".join(loc) or None
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    message = f"{param + ': ' if param else ''}{first.get('msg', 'invalid value')}{more}"
    return ApiError(400, message, param=param, code="invalid_value")


def _is_branch(part: object) -> bool:
    """A union branch name pydantic puts in error locations (``str``, ``list[...]``, ``tagged-union[...]``)."""
    return isinstance(part, str) and (
        part in ("str", "int", "float") or part.endswith("]") or part.startswith("function")
    )


def install_handlers(app: FastAPI) -> None:
    """Every error leaves as the OpenAI error body; an unexpected one is logged and answered 500 without details."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _schema(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(ApiError(exc.status_code, str(exc.detail), headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(ApiError(500, f"internal server error ({type(exc).__name__}); see the server log"))
