"""Export a build to the LLaVA / ShareGPT JSON layout, with the images a LLaVA loader can open.

LLaVA reads ``image`` relative to its ``--image_folder`` with PIL and has no notion of windows or 16-bit rasters,
so the export folder is made self-contained: pass it as ``--image_folder``. Whole 8-bit JPEG/PNG/BMP images are
linked (symlink, else copied) to ``images/<path>``; tiles and every other raster (16-bit, multi-band, TIFF) are
written once as 8-bit RGB PNG files, made by ``imagery.load_image`` exactly as the model input would be
(``tiles/<path>@<x>_<y>.png``, ``images/<path>.png``). These files exist only in the export; the build itself
never writes or converts an image.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from earthgpt.data.corpus.manifest import iter_conversations, read_manifest
from earthgpt.data.imagery import ImageReadError, load_image
from earthgpt.data.records import ImageRef

log = logging.getLogger(__name__)

LINKABLE = (".jpg", ".jpeg", ".png", ".bmp")
ROLES = {"user": "human", "assistant": "gpt"}


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and what it holds."""

    json_path: Path
    conversations: int
    images_linked: int
    images_written: int
    missing_images: int


def export_name(ref: ImageRef) -> tuple[str, bool]:
    """The image's path inside the export folder, and whether it is a link to the original (else a PNG)."""
    linkable = ref.tile is None and ref.dtype == "uint8" and ref.bands in (1, 3)
    if linkable and posixpath.splitext(ref.path)[1].lower() in LINKABLE:
        return f"images/{ref.path.lstrip('/')}", True
    stem = posixpath.splitext(ref.path.lstrip("/"))[0]
    if ref.tile is None:
        return f"images/{stem}.png", False
    t = ref.tile
    scale = "" if t.scale == 1.0 else f"_s{t.scale:g}"
    return f"tiles/{stem}@{t.x}_{t.y}{scale}.png", False


def llava_entry(conv: dict[str, Any], image: str) -> dict[str, Any]:
    """One stored conversation as a LLaVA item: the first human turn starts with ``<image>\\n``."""
    turns = []
    for msg in conv["messages"]:
        if msg["role"] not in ROLES:
            continue  # LLaVA has no system turn
        text = "".join(p["text"] for p in msg["content"] if p["type"] == "text")
        has_image = any(p["type"] == "image" for p in msg["content"])
        turns.append({"from": ROLES[msg["role"]], "value": f"<image>\n{text}" if has_image else text})
    return {"id": conv["id"], "image": image, "conversations": turns}


def _materialise(ref: ImageRef, name: str, link: bool, data_root: Path, export_dir: Path) -> bool:
    """Put the image at ``export_dir/name`` (once); True if it was created now. Raises ImageReadError."""
    target = export_dir / name
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        src = ref.resolve(data_root).resolve()
        if not src.is_file():
            raise ImageReadError(src, "image file not found", "check the data root given to the export")
        try:
            os.symlink(src, target)
        except OSError:
            shutil.copyfile(src, target)
        return True
    rgb = load_image(ref, data_root)  # [H, W, 3] uint8, tile window cut and resized
    tmp = target.with_name(target.name + ".tmp")
    Image.fromarray(rgb).save(tmp, format="PNG")
    os.replace(tmp, target)
    return True


def _entries(
    out_dir: Path, export_dir: Path, data_root: Path, split: str | None, counts: dict[str, int]
) -> Iterator[dict[str, Any]]:
    missing: set[str] = set()
    for conv in iter_conversations(out_dir, split):
        ref = next(
            (ImageRef.from_dict(p["image"]) for m in conv["messages"] for p in m["content"] if p["type"] == "image"),
            None,
        )
        if ref is None:
            continue
        name, link = export_name(ref)
        if name in missing:
            continue
        try:
            if _materialise(ref, name, link, data_root, export_dir):
                counts["images_linked" if link else "images_written"] += 1
        except ImageReadError as e:
            log.warning("export: %s; its conversations are left out", e)
            missing.add(name)
            counts["missing_images"] += 1
            continue
        counts["conversations"] += 1
        yield llava_entry(conv, name)


def export_llava(
    out_dir: str | Path, export_dir: str | Path, *, data_root: str | Path | None = None, split: str | None = None
) -> ExportResult:
    """Write ``export_dir/llava.json`` (a JSON list of LLaVA items) and the images it names (see module doc).

    ``data_root`` defaults to the build's own; ``split`` keeps only that split's conversations.
    """
    out, export = Path(out_dir), Path(export_dir)
    root = Path(data_root) if data_root is not None else Path(read_manifest(out)["config"]["data_root"])
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} does not exist: pass data_root= (option --data) for the export")
    export.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(("conversations", "images_linked", "images_written", "missing_images"), 0)
    path = export / "llava.json"
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write("[")
        for n, entry in enumerate(_entries(out, export, root, split, counts)):
            f.write(("\n" if n == 0 else ",\n") + json.dumps(entry, ensure_ascii=False))
        f.write("\n]\n")
    os.replace(tmp, path)
    log.info("exported %d conversations to %s", counts["conversations"], path)
    return ExportResult(json_path=path, **counts)
