"""The canonical conversation: messages with a role and image/text parts, and a masked flag for the loss."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from earthgpt.data.records import ImageRef
from earthgpt.geometry.prompts import RleMask, VisualPrompt

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    """Where the image's visual tokens go in the sequence."""

    image: ImageRef


Part = TextPart | ImagePart


@dataclass(frozen=True)
class Message:
    """One turn. ``masked`` turns contribute no loss; by default only assistant turns are learned."""

    role: Role
    content: tuple[Part, ...]
    masked: bool | None = None

    @property
    def is_masked(self) -> bool:
        return self.role != "assistant" if self.masked is None else self.masked

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @staticmethod
    def user(text: str, image: ImageRef | None = None) -> Message:
        parts: tuple[Part, ...] = (ImagePart(image), TextPart(text)) if image is not None else (TextPart(text),)
        return Message("user", parts)

    @staticmethod
    def assistant(text: str) -> Message:
        return Message("assistant", (TextPart(text),))


@dataclass(frozen=True)
class Conversation:
    """A dialogue about (at most) one image, with where it came from.

    EarthGPT-X parts, all in the pixels of the conversation's image: ``prompts[K - 1]`` is the object the text calls
    ``<regionK>``; ``masks[i]`` is the target of the i-th ``<seg>`` of the assistant turns, in order; ``views`` is the
    view plan (``""`` = the model's default, ``"global"``, ``"grid:K"``, ``"region:K"``).
    """

    id: str
    messages: tuple[Message, ...]
    task: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    prompts: tuple[VisualPrompt, ...] = ()
    masks: tuple[RleMask, ...] = ()
    views: str = ""

    @property
    def image(self) -> ImageRef | None:
        for m in self.messages:
            for p in m.content:
                if isinstance(p, ImagePart):
                    return p.image
        return None

    def to_dict(self) -> dict[str, Any]:
        msgs = []
        for m in self.messages:
            parts: list[dict[str, Any]] = []
            for p in m.content:
                if isinstance(p, TextPart):
                    parts.append({"type": "text", "text": p.text})
                else:
                    parts.append({"type": "image", "image": p.image.to_dict()})
            msg: dict[str, Any] = {"role": m.role, "content": parts}
            if m.masked is not None:
                msg["masked"] = m.masked
            msgs.append(msg)
        out: dict[str, Any] = {"id": self.id, "task": self.task, "source": self.source, "meta": self.meta}
        out["messages"] = msgs
        if self.prompts:
            out["prompts"] = [p.to_dict() for p in self.prompts]
        if self.masks:
            out["masks"] = [m.to_dict() for m in self.masks]
        if self.views:
            out["views"] = self.views
        return out

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Conversation:
        msgs = []
        for m in d["messages"]:
            parts: list[Part] = []
            for p in m["content"]:
                if p["type"] == "text":
                    parts.append(TextPart(p["text"]))
                elif p["type"] == "image":
                    parts.append(ImagePart(ImageRef.from_dict(p["image"])))
                else:
                    raise ValueError(f"unknown message part type {p['type']!r}: expected 'text' or 'image'")
            if m["role"] not in ("system", "user", "assistant"):
                raise ValueError(f"unknown role {m['role']!r}")
            msgs.append(Message(m["role"], tuple(parts), m.get("masked")))
        return Conversation(
            id=str(d["id"]),
            messages=tuple(msgs),
            task=d.get("task", ""),
            source=d.get("source", ""),
            meta=dict(d.get("meta", {})),
            prompts=tuple(VisualPrompt.from_dict(p) for p in d.get("prompts", ())),
            masks=tuple(RleMask.from_dict(m) for m in d.get("masks", ())),
            views=str(d.get("views", "")),
        )
