"""What an operator sets for a server: the model's public name, the media root, batching and every limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from earthgpt.data.imagery import max_pixels

__all__ = ["ServeSettings"]


@dataclass(frozen=True)
class ServeSettings:
    """Server settings (``earthgpt serve`` flags of the same names, dashes for underscores)."""

    model_name: str = "earthgpt"
    """The id ``GET /v1/models`` lists; a request naming another model gets 404."""
    media_root: Path | None = None
    """Local image paths (``image_url`` without a scheme, or ``file://``) are read only below this folder; None:
    local files are refused."""
    max_batch: int = 8
    """Most requests in one ``Predictor.generate`` call."""
    batch_wait_ms: float = 5.0
    """How long the oldest queued request waits for others to fill its batch."""
    max_queue: int = 256
    """Most requests waiting for the model; beyond it 429 with Retry-After."""
    request_timeout_s: float = 300.0
    """A request not answered within this time gets 408 (and leaves the queue if it has not started)."""
    max_body_bytes: int = 32 * 1024 * 1024
    """Largest request body (a base64 image is 4/3 of its file); beyond it 413."""
    max_image_pixels: int = field(default_factory=max_pixels)
    """Largest image, width x height, read from the header before decoding (default: the pixel budget,
    ``$EARTHGPT_MAX_PIXELS``); beyond it 413."""
    max_text_chars: int = 100_000
    """Most characters of text in a request's messages, checked before tokenising; beyond it 400."""
    default_max_tokens: int = 256
    """The answer's token budget when a request gives no ``max_tokens``."""
    prep_workers: int = 2
    """Threads that decode images and tokenise requests (bounds the memory of concurrent uploads)."""

    def __post_init__(self) -> None:
        positive = {
            "max_batch": self.max_batch,
            "max_queue": self.max_queue,
            "request_timeout_s": self.request_timeout_s,
            "max_body_bytes": self.max_body_bytes,
            "max_image_pixels": self.max_image_pixels,
            "max_text_chars": self.max_text_chars,
            "default_max_tokens": self.default_max_tokens,
            "prep_workers": self.prep_workers,
        }
        bad = [f"{name}={value}" for name, value in positive.items() if value <= 0]
        if bad or self.batch_wait_ms < 0:
            raise ValueError(f"server settings must be positive (batch_wait_ms >= 0): {', '.join(bad) or 'wait'}")
        if self.media_root is not None and not Path(self.media_root).is_dir():
            raise NotADirectoryError(f"--media-root {self.media_root} is not a folder: pass the folder of images")
