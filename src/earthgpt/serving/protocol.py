"""The wire schema: pydantic models that mirror OpenAI's chat completions API, plus the ``earthgpt`` extension field.

Requests are validated once, here, at the edge; everything past the routes sees typed objects. Unknown OpenAI fields
(``frequency_penalty``, ``logit_bias``, ...) are accepted and ignored, as OpenAI-compatible servers do, so a client
that always sends them keeps working.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "BoxOut",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "Choice",
    "ChunkChoice",
    "Delta",
    "EarthGPTOptions",
    "EarthGPTOutput",
    "ErrorBody",
    "ErrorResponse",
    "ImageContent",
    "ImageURL",
    "MaskOut",
    "ModelCard",
    "ModelList",
    "ResponseMessage",
    "StreamOptions",
    "TextContent",
    "Usage",
]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ----- request ----------------------------------------------------------------------------------------------------


class ImageURL(_Lenient):
    """``url``: a ``data:image/...;base64,...`` URL, or a path (or ``file://`` URL) below the server's media root."""

    url: str
    detail: str | None = None


class TextContent(_Lenient):
    type: Literal["text"]
    text: str


class ImageContent(_Lenient):
    """An image part; ``image_url`` as an object (OpenAI) or as a bare string (as some clients send it)."""

    type: Literal["image_url"]
    image_url: ImageURL

    @field_validator("image_url", mode="before")
    @classmethod
    def _bare_string(cls, v: Any) -> Any:
        return {"url": v} if isinstance(v, str) else v


ContentPart = Annotated[TextContent | ImageContent, Field(discriminator="type")]


class ChatMessage(_Lenient):
    role: Literal["system", "user", "assistant"]
    content: str | list[ContentPart] | None = None


class EarthGPTOptions(BaseModel):
    """The one extension field (``extra_body={"earthgpt": {...}}`` with the openai client).

    ``prompts[K - 1]`` is the object the text calls ``<regionK>``, in the pixels of the request's image, in
    :meth:`earthgpt.geometry.prompts.VisualPrompt.to_dict` form; ``views`` is the zoom view plan (``"global"``,
    ``"grid:K"``, ``"region:K"``; ``""`` = the model's default).
    """

    model_config = ConfigDict(extra="forbid")

    prompts: list[dict[str, Any]] = Field(default_factory=list)
    views: str = ""


class StreamOptions(_Lenient):
    include_usage: bool = False


class ChatCompletionRequest(_Lenient):
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    earthgpt: EarthGPTOptions | None = None

    @field_validator("stop")
    @classmethod
    def _stops(cls, v: str | list[str] | None) -> str | list[str] | None:
        stops = [v] if isinstance(v, str) else v or []
        if len(stops) > 4 or any(not s for s in stops):
            raise ValueError("stop takes up to 4 non-empty strings")
        return v

    def stop_list(self) -> tuple[str, ...]:
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())


# ----- response ---------------------------------------------------------------------------------------------------


class BoxOut(BaseModel):
    """A box read from the answer, in the pixels of the input image: ``coords`` x1, y1, x2, y2 (hbb) or the 4
    corners x1, y1, ..., x4, y4 (obb); ``score`` the model's confidence (exp of its mean token log-probability)."""

    kind: Literal["hbb", "obb"]
    coords: list[float]
    label: str
    score: float | None = None


class MaskOut(BaseModel):
    """A mask of a ``<seg>`` token: COCO RLE ``{"size": [h, w], "counts": str}`` and its outer rings as flat
    ``[x1, y1, x2, y2, ...]`` pixel polygons."""

    rle: dict[str, Any]
    polygons: list[list[float]]


class EarthGPTOutput(BaseModel):
    """Structured output next to the text; ``geojson`` is a FeatureCollection in the image's CRS (None for an image
    without one); ``warnings`` says what the client should know (e.g. a GeoTIFF without a CRS)."""

    boxes: list[BoxOut] = Field(default_factory=list)
    masks: list[MaskOut] = Field(default_factory=list)
    geojson: dict[str, Any] | None = None
    width: int
    height: int
    crs: str | None = None
    warnings: list[str] = Field(default_factory=list)


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    earthgpt: EarthGPTOutput | None = None


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


class ChatCompletionResponse(BaseModel):
    id: str = Field(default_factory=_completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[Choice]
    usage: Usage


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    earthgpt: EarthGPTOutput | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop", "length"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=lambda: int(time.time()))
    owned_by: str = "earthgpt"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
