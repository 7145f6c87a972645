"""A whole-scene run: slice, predict and shift in batches (resumable), merge, export."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm import tqdm

from earthgpt.data.imagery import Window
from earthgpt.data.instructions.templates import DETECT_HBB, DETECT_OBB, SEGMENT_CLASS, SEGMENT_EXPRESSION
from earthgpt.geometry import BoxKind, LabeledBox
from earthgpt.geometry.prompts import RleMask
from earthgpt.inference.scene import export
from earthgpt.inference.scene.journal import Journal
from earthgpt.inference.scene.merge import DEFAULT_NMS_IOU, Region, merge_boxes, merge_masks, tile_mask_geometry
from earthgpt.inference.scene.predict import TileModel, scene_boxes
from earthgpt.inference.scene.profiles import (
    Display,
    check_bands,
    default_bands,
    resolve_profile,
    scene_stretch,
    to_display,
)
from earthgpt.inference.scene.slicing import Scene, is_nodata, open_scene, read_tile, tile_windows

log = logging.getLogger(__name__)

Task = Literal["detect", "ask", "segment"]


@dataclass(frozen=True)
class SceneJob:
    """What to run on which scene and where the results go (``out`` is the GeoJSON; the COCO, DOTA, summary and
    journal files sit beside it)."""

    scene: Path
    out: Path
    task: Task = "detect"
    question: str | None = None
    """The question of ``ask`` (asked of every tile), or a detection instruction other than the paper's."""
    classes: tuple[str, ...] = ()
    """``segment``: the classes to segment, each asked of every tile as "segment every <class>"."""
    query: str | None = None
    """``segment``: a description of what to segment (the referring-expression instruction), its own class."""
    boxes: BoxKind = "hbb"
    tile: int | None = None
    """Tile side in scene pixels (default: the model's input side, so tiles reach the model at native scale)."""
    overlap: float = 0.2
    profile: str = "auto"
    bands: tuple[int, ...] = ()
    """1-based bands shown as R, G, B (or one band); default: the profile's."""
    nodata: float | None = None
    """Overrides the scene's nodata value."""
    crs: str | None = None
    nms_iou: float = DEFAULT_NMS_IOU
    batch_size: int = 8
    max_tiles: int | None = None
    """Stop after this many tiles in this call (the journal keeps them; the next call resumes)."""
    model_id: str = ""
    fresh: bool = False


@dataclass
class SceneResult:
    """What a run did: tiles visited and answered, whether the scene is finished, and the files written."""

    tiles: int
    done: int
    answered: int
    nodata: int
    complete: bool
    boxes: list[LabeledBox] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def outputs(out: Path) -> dict[str, Path]:
    """Every file of a run, from the GeoJSON path."""
    stem = out.with_suffix("")
    return {"geojson": out, "coco": stem.with_suffix(".coco.json"), "dota": stem.with_suffix(".dota.txt"),
            "summary": stem.with_suffix(".summary.json"), "journal": out.with_name(out.name + ".tiles.jsonl")}  # fmt: skip


def question_for(job: SceneJob) -> str:
    """The instruction asked of every tile (detect, ask); ValueError for ``ask`` without one. ``segment`` asks one
    question per class: :func:`segment_questions`."""
    if job.task == "segment":
        raise ValueError("--task segment asks one question per class; see segment_questions")
    if job.task == "ask":
        if not job.question:
            raise ValueError("--task ask needs --question TEXT (asked of every tile)")
        return job.question
    return job.question or (DETECT_OBB if job.boxes == "obb" else DETECT_HBB)


def segment_questions(job: SceneJob) -> list[tuple[str, str]]:
    """(class, instruction) pairs of ``segment``, each asked of every tile: the corpus builder's "segment every
    <class>" per ``--class``, then the referring-expression instruction for ``--query`` (the query names its class).
    ValueError without either."""
    if not job.classes and not job.query:
        raise ValueError('--task segment needs what to segment: --class NAME (repeatable) or --query "TEXT"')
    if job.question:
        raise ValueError("--question is for detect and ask; --task segment takes --class NAME or --query TEXT")
    pairs = [(c, SEGMENT_CLASS.format(label=c)) for c in dict.fromkeys(job.classes)]
    if job.query:
        pairs.append((job.query, SEGMENT_EXPRESSION.format(expression=job.query)))
    return pairs


def check_job(job: SceneJob) -> None:
    """ValueError for options that cannot work together (before anything is read or loaded)."""
    if job.task == "segment":
        segment_questions(job)
    else:
        if job.classes or job.query:
            raise ValueError("--class and --query are for --task segment; detect and ask take --question")
        question_for(job)


def _display(job: SceneJob, scene: Scene, nodata: float | None) -> Display:
    profile = resolve_profile(job.profile, scene.info)
    if profile == "rgb8" and scene.info.dtype != "uint8":
        raise ValueError(f"{scene.path}: --profile rgb8 needs 8-bit data, this is {scene.info.dtype}; use auto")
    bands = (
        check_bands(job.bands, scene.info.bands, scene.path) if job.bands else default_bands(profile, scene.info.bands)
    )
    base = Display(profile, bands, None)
    return dataclasses.replace(base, stretch=scene_stretch(scene.path, scene.info, base, nodata))


def _plan(job: SceneJob, scene: Scene, display: Display, tile: int, question: str | list[list[str]]) -> dict[str, Any]:
    return {"scene": scene.path.name, "size": [scene.info.width, scene.info.height, scene.info.bands],
            "dtype": scene.info.dtype, "task": job.task, "question": question, "boxes": job.boxes, "tile": tile,
            "overlap": job.overlap, "display": dataclasses.asdict(display), "model": job.model_id}  # fmt: skip


def _batches(
    scene: Scene, display: Display, windows: list[Window], start: int, stop: int, size: int, nodata: float | None
) -> Iterator[list[tuple[int, Window, np.ndarray | None]]]:
    """Tiles ``start``..``stop`` in order, cut into runs holding ``size`` non-nodata tiles (nodata ones: None)."""
    batch: list[tuple[int, Window, np.ndarray | None]] = []
    filled = 0
    for i in range(start, stop):
        raw = read_tile(scene, windows[i])
        rgb = None if is_nodata(raw, nodata) else to_display(raw, display)
        batch.append((i, windows[i], rgb))
        filled += rgb is not None
        if filled == size:
            yield batch
            batch, filled = [], 0
    if batch:
        yield batch


def _records(batch: list[tuple[int, Window, np.ndarray | None]], model: TileModel, question: str,
             job: SceneJob) -> list[dict[str, Any]]:  # fmt: skip
    """One journal record per tile of the batch: nodata, or the answer and its boxes in scene pixels."""
    if job.task == "segment":
        return _segment_records(batch, model, segment_questions(job))
    images = [rgb for _, _, rgb in batch if rgb is not None]
    answers = iter(model.answer(images, question) if images else [])
    out: list[dict[str, Any]] = []
    for i, window, rgb in batch:
        if rgb is None:
            out.append({"i": i, "window": list(window), "status": "nodata"})
            continue
        a = next(answers)
        boxes = scene_boxes(a, window, job.boxes) if job.task == "detect" else []
        out.append({"i": i, "window": list(window), "status": "ok", "text": a.text,
                    "boxes": [b.to_dict() for b in boxes]})  # fmt: skip
    return out


def _segment_records(
    batch: list[tuple[int, Window, np.ndarray | None]], model: TileModel, questions: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """``segment``'s journal records: per tile, per class the answer text and its masks (COCO RLE, the tile's
    pixels), so the merge can be redone from the journal alone."""
    images = [rgb for _, _, rgb in batch if rgb is not None]
    per_class = [(label, iter(model.answer(images, q) if images else [])) for label, q in questions]
    out: list[dict[str, Any]] = []
    for i, window, rgb in batch:
        if rgb is None:
            out.append({"i": i, "window": list(window), "status": "nodata"})
            continue
        segments = []
        for label, answers in per_class:
            a = next(answers)
            segments.append({"label": label, "text": a.text, "masks": [m.to_dict() for m in a.masks]})
        out.append({"i": i, "window": list(window), "status": "ok", "segments": segments})
    return out


def _regions(records: list[dict[str, Any]]) -> list[Region]:
    """The journal's tile masks shifted into scene pixels and merged (one tile's mask decoded at a time)."""
    pieces = (
        (seg["label"], tile_mask_geometry(RleMask.from_dict(m), tuple(r["window"])))  # type: ignore[arg-type]
        for r in records
        for seg in r["segments"]
        for m in seg["masks"]
    )
    return merge_masks(pieces)


def run_scene(job: SceneJob, model: TileModel, progress: bool = True) -> SceneResult:
    """Run ``job`` with ``model``; resumes from the journal beside ``job.out``. Outputs are written once every tile
    is finished, from the journal alone, so an interrupted and resumed run writes the same bytes as one that ran
    through."""
    check_job(job)
    segment = job.task == "segment"
    question = "" if segment else question_for(job)
    asked: str | list[list[str]] = [list(p) for p in segment_questions(job)] if segment else question
    scene = open_scene(job.scene)
    nodata = job.nodata if job.nodata is not None else scene.nodata
    display = _display(job, scene, nodata)
    tile = job.tile or model.side
    windows = tile_windows(scene.info.width, scene.info.height, tile, job.overlap)
    files = outputs(job.out)
    if job.fresh:
        files["journal"].unlink(missing_ok=True)
    journal = Journal(files["journal"], _plan(job, scene, display, tile, asked))
    start = len(journal.records)
    stop = len(windows) if job.max_tiles is None else min(len(windows), start + job.max_tiles)
    with tqdm(total=len(windows), initial=start, unit="tile", disable=not progress, desc=scene.path.name) as bar:
        for batch in _batches(scene, display, windows, start, stop, job.batch_size, nodata):
            journal.append(_records(batch, model, question, job))
            bar.update(len(batch))
    return _finish(job, scene, journal, len(windows), files)


def _finish(job: SceneJob, scene: Scene, journal: Journal, n: int, files: dict[str, Path]) -> SceneResult:
    recs = journal.records
    ok = [r for r in recs if r["status"] == "ok"]
    result = SceneResult(tiles=n, done=len(recs), answered=len(ok), nodata=len(recs) - len(ok), complete=len(recs) == n)
    if not result.complete:
        log.info("%d of %d tiles finished; run the same command again to continue", len(recs), n)
        return result
    segment = job.task == "segment"
    boxes = [] if segment else merge_boxes([LabeledBox.from_dict(d) for r in ok for d in r["boxes"]], job.nms_iou)
    regions = _regions(ok) if segment else []
    answers = [(r["window"], r["text"]) for r in ok] if job.task == "ask" else []
    tiles = {"total": n, "answered": result.answered, "nodata": result.nodata}
    export.write_json(files["geojson"], export.geojson(scene, boxes, job.crs, answers, regions))
    export.write_json(files["coco"], export.coco(scene, boxes, regions))
    if segment:  # masks have no DOTA form
        del files["dota"]
    else:
        files["dota"].write_text("".join(line + "\n" for line in export.dota_lines(boxes)), encoding="utf-8")
    export.write_json(files["summary"], export.summary(scene, boxes, tiles, regions if segment else None), indent=1)
    result.boxes, result.regions, result.files = boxes, regions, files
    return result
