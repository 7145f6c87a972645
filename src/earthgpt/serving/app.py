"""The OpenAI-compatible app: thin routes that read and validate a request, hand it to the batcher in front of the
Predictor, and write the answer back (``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /health``); the web page
and its raster preview (``GET /``, ``POST /v1/preview``) come from :mod:`earthgpt.serving.page`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from earthgpt.data.imagery import ImageReadError
from earthgpt.inference.output import Generation
from earthgpt.inference.predictor import Predictor
from earthgpt.serving.batching import Batcher, Job, QueueFullError
from earthgpt.serving.completions import Prepared, prepare, response, stream_events
from earthgpt.serving.errors import ApiError, install_handlers, validation_error
from earthgpt.serving.page import page_router
from earthgpt.serving.protocol import ChatCompletionRequest, ModelCard, ModelList
from earthgpt.serving.settings import ServeSettings

__all__ = ["create_app", "run_batch"]

log = logging.getLogger(__name__)


def run_batch(predictor: Predictor, jobs: list[Job]) -> list[Generation]:
    """One batch (one sampling key) through ``Predictor.generate``; visual prompts and view plans only when a job
    of the batch has some (a plain batch is a plain call)."""
    options: dict[str, Any] = jobs[0].sampling.options()
    if any(j.prompts or j.views for j in jobs):
        options["prompts"] = [list(j.prompts) for j in jobs]
        options["views"] = [j.views for j in jobs]
    return predictor.generate([j.pixels for j in jobs], [list(j.dialogue) for j in jobs], **options)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it (or its declared length) passes ``limit`` bytes."""
    too_big = ApiError(413, f"the request body is over the server's limit of {limit:,} bytes (--max-body-bytes); "
                       "send a smaller image", code="body_too_large")  # fmt: skip
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _to_api_error(exc: Exception) -> ApiError:
    """A failure of generation itself as the client's error when it is about the request (a ValueError from the
    Predictor names the prompt, the view plan or the model's missing parts)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, QueueFullError):
        return ApiError(
            429, f"the server is busy: {exc}", code="queue_full", headers={"Retry-After": str(exc.retry_after)}
        )
    if isinstance(exc, ImageReadError):
        return ApiError(400, f"image: {exc.problem}; {exc.fix}", code="bad_image")
    if isinstance(exc, ValueError):  # PromptTooLongError, PromptError, a plain model given prompts
        return ApiError(400, str(exc), code="invalid_request")
    raise exc


def create_app(predictor: Predictor, settings: ServeSettings | None = None) -> FastAPI:
    """The server over one Predictor; the batcher starts and stops with the app (its lifespan)."""
    settings = settings or ServeSettings()
    prep = ThreadPoolExecutor(max_workers=settings.prep_workers, thread_name_prefix="earthgpt-prepare")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher = Batcher(lambda jobs: run_batch(predictor, jobs), settings.max_batch,
                          settings.batch_wait_ms / 1000.0, settings.max_queue)  # fmt: skip
        batcher.start()
        app.state.batcher = batcher
        try:
            yield
        finally:
            await batcher.stop()
            prep.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="EarthGPT", summary="OpenAI-compatible chat completions about remote-sensing images",
                  lifespan=lifespan)  # fmt: skip
    app.state.predictor = predictor
    app.state.settings = settings
    install_handlers(app)
    app.include_router(page_router(max_upload_bytes=settings.max_body_bytes * 3 // 4))

    async def generate(prepared: Prepared) -> Generation:
        batcher: Batcher = app.state.batcher
        try:
            gen: Generation = await asyncio.wait_for(batcher.submit(prepared.job), settings.request_timeout_s)
        except asyncio.TimeoutError as e:
            raise ApiError(408, f"no answer within the server's --request-timeout of {settings.request_timeout_s:g} s; "
                           "retry, or ask for fewer max_tokens", code="timeout") from e  # fmt: skip
        except Exception as e:
            raise _to_api_error(e) from e
        return gen

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> Response:
        body = await _read_body(request, settings.max_body_bytes)
        try:
            req = ChatCompletionRequest.model_validate_json(body)
        except ValidationError as e:
            raise validation_error(e) from e
        if req.model not in (None, "", settings.model_name):
            raise ApiError(404, f"model: this server serves {settings.model_name!r}, not {req.model!r}; see "
                           "GET /v1/models", param="model", code="model_not_found")  # fmt: skip
        loop = asyncio.get_running_loop()
        try:
            prepared = await loop.run_in_executor(prep, prepare, req, predictor, settings)
        except ValueError as e:
            raise _to_api_error(e) from e
        gen = await generate(prepared)
        if req.stream:
            usage = req.stream_options is not None and req.stream_options.include_usage
            events = stream_events(gen, prepared, settings.model_name, usage)
            return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        return JSONResponse(response(gen, prepared, settings.model_name).model_dump(mode="json"))

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return ModelList(data=[ModelCard(id=settings.model_name)]).model_dump(mode="json")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        batcher: Batcher = app.state.batcher
        return {"status": "ok", "model": settings.model_name, "waiting": batcher.waiting,
                "batches": batcher.batches, "requests": batcher.requests}  # fmt: skip

    return app
