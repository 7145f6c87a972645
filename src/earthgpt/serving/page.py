"""The web page's routes: ``GET /`` (the page and its script and style) and ``POST /v1/preview`` (a PNG of a raster a
browser cannot show). The page itself talks to ``/v1/chat/completions`` like any other client."""

from __future__ import annotations

import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from earthgpt.data.imagery import ImageReadError
from earthgpt.serving.errors import ApiError, error_response
from earthgpt.serving.preview import PREVIEW_SIDE, PreviewError, make_preview, raster_suffix

DEFAULT_MAX_UPLOAD_BYTES = 24 << 20
"""24 MiB: 3/4 of the server's default request body limit. ``create_app`` passes 3/4 of ``--max-body-bytes``, so a
raster the page can preview also fits, base64-encoded (4/3 of its size), in a chat request."""

STATIC_FILES: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "overlay.js": "text/javascript; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
}
"""The page's files (package data under ``serving/static``) and their media types."""

_HEAD_BYTES = 16  # enough for every magic number raster_suffix knows


def static_text(name: str) -> str:
    """The text of one of the page's files, read from the installed package."""
    return resources.files("earthgpt.serving").joinpath("static", name).read_text(encoding="utf-8")


def _error(status: int, message: str, param: str, code: str) -> JSONResponse:
    return error_response(ApiError(status, message, param=param, code=code))


def _too_large(limit: int) -> str:
    return (
        f"the upload is over {limit:,} bytes (3/4 of the server's --max-body-bytes: a chat request carries the image "
        "base64-encoded); send a smaller raster or run `earthgpt scene` on it"
    )


async def _spool(request: Request, limit: int) -> Path | JSONResponse:
    """The request body written to a temporary file named by its magic number, or the 4xx error to send (empty,
    too large, not a raster); the body is streamed, never held whole in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _error(413, _too_large(limit), "body", "upload_too_large")
    fd, name = tempfile.mkstemp(prefix="earthgpt-preview-")
    path, size, head = Path(name), 0, b""
    error: JSONResponse | None = None
    with os.fdopen(fd, "wb") as f:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                error = _error(413, _too_large(limit), "body", "upload_too_large")
                break
            if len(head) < _HEAD_BYTES:
                head += chunk[:_HEAD_BYTES]
            f.write(chunk)
    if error is None and size == 0:
        error = _error(400, "the upload is empty; send the image file as the request body", "body", "empty")
    if error is None:
        try:
            named = path.with_name(path.name + raster_suffix(head))
        except PreviewError as e:
            error = _error(415, str(e), "body", "unsupported_media_type")
    if error is not None:
        path.unlink(missing_ok=True)
        return error
    path.rename(named)
    return named


def _bands(text: str) -> tuple[int, ...]:
    """``"4,3,2"`` -> (4, 3, 2); :class:`PreviewError` naming the field on anything else."""
    if not text.strip():
        return ()
    try:
        return tuple(int(b) for b in text.split(","))
    except ValueError as e:
        raise PreviewError(f"bands={text!r} must be 1 or 3 comma-separated band numbers, e.g. 4,3,2") from e


def page_router(max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES, preview_side: int = PREVIEW_SIDE) -> APIRouter:
    """The page's routes; ``max_upload_bytes`` bounds a preview upload (413 above it)."""
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(static_text("index.html"), media_type=STATIC_FILES["index.html"])

    for name in [n for n in STATIC_FILES if n != "index.html"]:
        router.add_api_route(f"/{name}", _static_route(name), methods=["GET"], include_in_schema=False)

    @router.post("/v1/preview", response_model=None)
    async def preview(
        request: Request,
        profile: str = Query("auto", description="sensor profile: auto, rgb8, sentinel2, uint16, sar, sar-db, thermal"),
        bands: str = Query("", description="1-based bands shown as R,G,B (or one band), e.g. 4,3,2"),
    ) -> Any:
        """The body is the raster file (JPEG, PNG, TIFF/GeoTIFF); the answer is :meth:`Preview.to_dict`."""
        spooled = await _spool(request, max_upload_bytes)
        if isinstance(spooled, JSONResponse):
            return spooled
        try:
            chosen = _bands(bands)
            result = await run_in_threadpool(make_preview, spooled, profile, chosen, preview_side)
        except PreviewError as e:
            return _error(400, str(e), "profile" if "profile" in str(e) else "bands", "bad_display")
        except ImageReadError as e:
            status = 413 if e.over_budget else 400
            return _error(status, f"the upload: {e.problem}; {e.fix}", "body", "bad_image")
        finally:
            spooled.unlink(missing_ok=True)
        return result.to_dict()

    return router


def _static_route(name: str) -> Any:
    def serve_file() -> Response:
        return Response(static_text(name), media_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})

    serve_file.__name__ = f"static_{name.replace('.', '_')}"
    return serve_file
