"""`earthgpt serve`: its options and handler (imports only the standard library until it runs)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from earthgpt.flags import MODEL_HELP

log = logging.getLogger(__name__)

# flag -> (ServeSettings field, type, help); defaults come from ServeSettings itself
_LIMITS: dict[str, tuple[str, type, str]] = {
    "--max-batch": ("max_batch", int, "most requests per model call"),
    "--batch-wait-ms": ("batch_wait_ms", float, "how long a request waits for others to fill its batch"),
    "--max-queue": ("max_queue", int, "most waiting requests; beyond it 429 with Retry-After"),
    "--request-timeout": ("request_timeout_s", float, "seconds before a request gets 408"),
    "--max-body-bytes": ("max_body_bytes", int, "largest request body; beyond it 413"),
    "--max-image-pixels": ("max_image_pixels", int, "largest image (w x h, from its header); default the budget"),
    "--max-text-chars": ("max_text_chars", int, "most characters of text per request"),
    "--max-tokens": ("default_max_tokens", int, "answer token budget when a request gives no max_tokens"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` on the top-level subcommands."""
    help = "serve a model over an OpenAI-compatible chat API (POST /v1/chat/completions)"
    p: argparse.ArgumentParser = sub.add_parser("serve", help=help, description=help)
    p.set_defaults(handler=cmd_serve)
    p.add_argument("--model", default=None, help=MODEL_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--media-root", default=None, help="local image paths are served only below this folder")
    p.add_argument("--model-name", default="earthgpt", help="the model id clients name (GET /v1/models)")
    for flag, (_, kind, text) in _LIMITS.items():
        p.add_argument(flag, type=kind, default=None, help=text)


def settings_from_args(args: argparse.Namespace) -> object:
    """ServeSettings from the flags (unset limits keep the dataclass defaults)."""
    from earthgpt.serving.settings import ServeSettings

    given = {field: getattr(args, flag[2:].replace("-", "_")) for flag, (field, _, _) in _LIMITS.items()}
    media = Path(args.media_root) if args.media_root else None
    return ServeSettings(model_name=args.model_name, media_root=media,
                         **{k: v for k, v in given.items() if v is not None})  # fmt: skip


def cmd_serve(args: argparse.Namespace) -> int:
    """Load the model, build the app and run uvicorn until interrupted."""
    try:
        import uvicorn

        from earthgpt.serving.app import create_app
    except ImportError as e:
        raise ValueError(f"serving needs FastAPI and uvicorn ({e}); pip install 'earthgpt[serve]'") from e
    from earthgpt.inference.predictor import Predictor
    from earthgpt.models.shipped import resolve_model
    from earthgpt.serving.settings import ServeSettings

    settings = settings_from_args(args)
    assert isinstance(settings, ServeSettings)
    model_dir = resolve_model(args.model)
    predictor = Predictor.load(model_dir, batch_size=settings.max_batch, max_new_tokens=settings.default_max_tokens)
    log.info("serving %s as %r on http://%s:%d", model_dir, settings.model_name, args.host, args.port)
    uvicorn.run(create_app(predictor, settings), host=args.host, port=args.port, log_level="info")
    return 0
