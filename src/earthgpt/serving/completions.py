"""Chat completions, translated: an OpenAI request -> a generation job, and a generation -> an OpenAI response or
its stream of chunks. No model code lives here; the Predictor does the work."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

from earthgpt.data.conversation import ImagePart, Message, Part, TextPart
from earthgpt.geometry.prompts import PromptError, VisualPrompt
from earthgpt.inference.output import Generation
from earthgpt.inference.predictor import INPUT_IMAGE, Predictor
from earthgpt.serving.batching import Job, Sampling
from earthgpt.serving.errors import ApiError
from earthgpt.serving.images import InputImage, read_image_url
from earthgpt.serving.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    Choice,
    ChunkChoice,
    Delta,
    ImageContent,
    ResponseMessage,
    Usage,
)
from earthgpt.serving.settings import ServeSettings
from earthgpt.serving.structured import resize_mask, structured_output

__all__ = ["Prepared", "prepare", "response", "stream_events"]


@dataclass(frozen=True)
class Prepared:
    """A validated request ready for the batcher: its job, its image and its token counts."""

    job: Job
    image: InputImage
    prompt_tokens: int
    max_tokens: int


def _dialogue(req: ChatCompletionRequest, settings: ServeSettings, max_side: int) -> tuple[list[Message], InputImage]:
    """The messages as our conversation type; the ONE image opens the user turn that holds it (where the chat
    template puts it in training), whatever the order of that turn's parts."""
    image: InputImage | None = None
    out: list[Message] = []
    chars = 0
    for i, m in enumerate(req.messages):
        parts: list[Part] = []
        items = [m.content] if isinstance(m.content, str) else (m.content or [])
        for j, item in enumerate(items):
            param = f"messages.{i}.content" + ("" if isinstance(m.content, str) else f".{j}")
            if isinstance(item, str):
                parts.append(TextPart(item))
                chars += len(item)
            elif isinstance(item, ImageContent):
                if m.role != "user":
                    raise ApiError(400, f"{param}: images go in user messages", param=param, code="bad_image")
                if image is not None:
                    raise ApiError(400, f"{param}: one image per conversation; EarthGPT answers about one image",
                                   param=param, code="too_many_images")  # fmt: skip
                image = read_image_url(item.image_url.url, f"{param}.image_url", media_root=settings.media_root,
                                       max_pixels=settings.max_image_pixels, max_side=max_side)  # fmt: skip
                parts.insert(0, ImagePart(INPUT_IMAGE))  # the image leads its turn, as in training
            else:
                parts.append(TextPart(item.text))
                chars += len(item.text)
            if chars > settings.max_text_chars:
                raise ApiError(400, f"messages: more than {settings.max_text_chars:,} characters of text, the server's "
                               "limit (--max-text-chars); shorten the conversation", param="messages",
                               code="context_length_exceeded")  # fmt: skip
        out.append(Message(m.role, tuple(parts)))
    if out[-1].role != "user":
        raise ApiError(400, f"messages.{len(out) - 1}: the last message must be the user's question",
                       param="messages", code="invalid_value")  # fmt: skip
    if image is None:
        raise ApiError(400, "messages: EarthGPT answers questions about an image; add an image_url part (a base64 "
                       "data: URL) to a user message", param="messages", code="missing_image")  # fmt: skip
    return out, image


def _prompts(req: ChatCompletionRequest, image: InputImage) -> tuple[VisualPrompt, ...]:
    raw = req.earthgpt.prompts if req.earthgpt is not None else []
    out = []
    for i, d in enumerate(raw):
        name = f"earthgpt.prompts[{i}] (<region{i + 1}>)"
        try:
            out.append(VisualPrompt.from_dict(d).validate(image.width, image.height, name))
        except PromptError as e:
            msg = str(e) if str(e).startswith("earthgpt.prompts") else f"{name}: {e}"
            raise ApiError(400, msg, param=f"earthgpt.prompts.{i}", code="invalid_prompt") from e
    return tuple(out)


def prepare(req: ChatCompletionRequest, predictor: Predictor, settings: ServeSettings) -> Prepared:
    """Validate and decode one request (image, prompts, token budget); :class:`ApiError` naming the field."""
    model = predictor.model
    dialogue, image = _dialogue(req, settings, model.image_size)
    prompts = _prompts(req, image)
    max_tokens = req.max_completion_tokens or req.max_tokens or settings.default_max_tokens
    ids = predictor.template.encode_prompt(dialogue)
    positions = model.config.llm.max_position_embeddings
    if len(ids) + max_tokens > positions:
        raise ApiError(
            400,
            f"messages: the prompt is {len(ids):,} tokens and the answer may take {max_tokens} (max_tokens): more "
            f"than the model's {positions} positions; shorten the messages to at most "
            f"{max(positions - max_tokens, 0):,} tokens or lower max_tokens",
            param="messages",
            code="context_length_exceeded",
        )
    sampling = Sampling(max_tokens, req.temperature, req.top_p, req.stop_list(), req.seed)
    views = req.earthgpt.views if req.earthgpt is not None else ""
    if prompts or views:  # EarthGPT-X takes the RGB itself; prompts move to its pixels (a large image is a view)
        h, w = image.rgb.shape[:2]
        scaled = tuple(scale_prompt(p, w / image.width, h / image.height) for p in prompts)
        job = Job(image.rgb, dialogue, sampling, scaled, views)
    else:
        job = Job(predictor.pixels(image.rgb), dialogue, sampling)
    return Prepared(job, image, len(ids), max_tokens)


def scale_prompt(prompt: VisualPrompt, sx: float, sy: float) -> VisualPrompt:
    """The prompt on the image scaled by (sx, sy) (a decimated view of a large raster); masks by nearest pixel."""
    if sx == 1 and sy == 1:
        return prompt
    if prompt.mask is not None:
        h, w = round(prompt.mask.height * sy), round(prompt.mask.width * sx)
        return VisualPrompt.from_mask(resize_mask(prompt.mask, w, h))
    points = tuple((x * sx, y * sy) for x, y in prompt.points)
    strokes = tuple(tuple((x * sx, y * sy) for x, y in s) for s in prompt.strokes)
    return replace(prompt, points=points, strokes=strokes)


def _usage(gen: Generation, prepared: Prepared) -> tuple[Usage, str]:
    completion = len(gen.token_logprobs) if gen.token_logprobs is not None else 0
    finish = gen.finish_reason or ("length" if completion >= prepared.max_tokens else "stop")
    usage = Usage(prompt_tokens=prepared.prompt_tokens, completion_tokens=completion,
                  total_tokens=prepared.prompt_tokens + completion)  # fmt: skip
    return usage, finish


def response(gen: Generation, prepared: Prepared, model_name: str) -> ChatCompletionResponse:
    usage, finish = _usage(gen, prepared)
    message = ResponseMessage(content=gen.text, earthgpt=structured_output(gen, prepared.image))
    choice = Choice(message=message, finish_reason=finish)  # type: ignore[arg-type]
    return ChatCompletionResponse(model=model_name, choices=[choice], usage=usage)


def _pieces(gen: Generation) -> list[str]:
    """The answer cut at its token ends (concatenated they give the text exactly)."""
    text, ends = gen.text, sorted({min(max(e, 0), len(gen.text)) for _, e in gen.token_spans or ()})
    cuts = [0, *[e for e in ends if 0 < e < len(text)], len(text)]
    return [text[a:b] for a, b in itertools.pairwise(cuts) if b > a] or ([text] if text else [])


def stream_events(gen: Generation, prepared: Prepared, model_name: str, include_usage: bool) -> Iterator[str]:
    """Server-sent events: a role chunk, one content chunk per token, a last chunk with ``finish_reason`` and the
    structured output, the usage chunk when asked for, then ``[DONE]``."""
    usage, finish = _usage(gen, prepared)
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def event(delta: Delta, finish_reason: str | None = None, with_usage: bool = False) -> str:
        choices = [] if with_usage else [ChunkChoice(delta=delta, finish_reason=finish_reason)]  # type: ignore[arg-type]
        chunk = ChatCompletionChunk(id=cid, created=created, model=model_name, choices=choices,
                                    usage=usage if with_usage else None)  # fmt: skip
        return f"data: {json.dumps(chunk.model_dump(mode='json', exclude_none=True))}\n\n"

    yield event(Delta(role="assistant", content=""))
    for piece in _pieces(gen):
        yield event(Delta(content=piece))
    yield event(Delta(earthgpt=structured_output(gen, prepared.image)), finish)
    if include_usage:
        yield event(Delta(), with_usage=True)
    yield "data: [DONE]\n\n"
