"""The RSVQA json triple (images, questions, answers linked by id) as RSVQA-LR and RSVQA-HR ship it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from earthgpt.data.records import QAPair, Record, VQARecord
from earthgpt.data.sources._annotation_formats import AnnotationError, read_int
from earthgpt.data.sources._karpathy import load_json
from earthgpt.data.sources._shared import check_fraction, hash_split, probe_ref
from earthgpt.data.sources.base import DataRootError, Skip, Source

KINDS = ("images", "questions", "answers")
QUESTION_TYPES = {"comp": "comparison"}  # the json's short name -> the name used in reports


class RSVQASource(Source):
    """Shared reader of the RSVQA json triple (``*_images.json``, ``*_questions.json``, ``*_answers.json``).

    * images: ``{"images": [{"id", "original_name", "sensor", "questions_ids": [...], "active", ...}]}``
    * questions: ``{"questions": [{"id", "img_id", "type", "question", "answers_ids": [...], "active"}]}``
    * answers: ``{"answers": [{"id", "question_id", "answer", "active"}]}``

    Split ``dev`` (option ``dev_fraction`` > 0): a held-out part of the train files for releases that ship one split
    only (the website samples): a hash of the image id sends ``dev_fraction`` of the train images to ``dev``, and
    ``train`` then keeps the rest, so the two are disjoint for one fraction. With ``dev_fraction`` 0 (the default)
    ``train`` is every train image and ``dev`` is empty.

    Entries are linked by id, never by list position. Only ``active`` images and questions are used: the
    official per-split image files list every image and mark the split's own as active, and deleted questions
    stay in the files as inactive. The image of entry ``id`` is ``<image dir>/<id>.<tif|png>``. Answers are kept
    raw (counts and areas such as ``"10632m2"`` are not binned here; evaluation bins them).
    """

    tasks = ("vqa",)
    patterns: ClassVar[dict[str, tuple[str, ...]]] = {}  # split -> file name patterns with {kind}
    image_dirs: ClassVar[tuple[str, ...]] = ()
    default_sensor: ClassVar[str] = ""

    def __init__(
        self, root: str | Path, split: str = "train", image_dir: str | None = None, dev_fraction: float = 0.0
    ) -> None:
        super().__init__(root, split)
        self.dev_fraction = check_fraction(self.name, dev_fraction)
        self.files = self._find_files()
        self.image_dir = image_dir
        self._data: tuple[dict[int, Any], dict[int, Any], dict[int, Any]] | None = None
        self._bad: dict[str, str] = {}

    def _find_files(self) -> dict[str, Path]:
        folders = [self.root, *sorted(p for p in self.root.iterdir() if p.is_dir())]
        for pattern in self._patterns():
            for folder in folders:
                files = {k: folder / pattern.format(kind=k) for k in KINDS}
                if all(f.is_file() for f in files.values()):
                    return files
        names = " or ".join(p.format(kind="{images,questions,answers}") for p in self._patterns())
        raise DataRootError(
            f"{self.name}: split {self.split!r} needs {names} in {self.root} or one folder below it; pass the "
            f"{self.name} folder as distributed"
        )

    def _patterns(self) -> tuple[str, ...]:
        return self.patterns.get("train" if self.split == "dev" else self.split, ())

    def _in_split(self, image_id: int) -> bool:
        """Whether an active image of the files belongs to this split (only ``train``/``dev`` are hash-divided)."""
        if self.split not in ("train", "dev") or (self.split == "train" and self.dev_fraction == 0):
            return True
        held_out = hash_split(str(image_id), self.dev_fraction) == "test"
        return held_out == (self.split == "dev")

    def _read(self) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
        """The active images, the questions and the answers by id. A file that cannot be read is one bad item
        (named by its kind) and leaves no image; one entry without a usable id is one bad item (``questions[7]``)
        and the rest is kept."""
        if self._data is not None:
            return self._data
        tables = [self._table(kind) for kind in KINDS]
        images, questions, answers = tables
        if any(kind in self._bad for kind in KINDS):
            images = {}
        kept = {i: e for i, e in images.items() if e.get("active", True) and self._in_split(i)}
        self._data = (kept, questions, answers)
        return self._data

    def _table(self, kind: str) -> dict[int, Any]:
        path = self.files[kind]
        try:
            entries = load_json(path)[kind]
            if not isinstance(entries, list):
                raise TypeError(f"{kind!r} is not a list")
        except (OSError, ValueError, KeyError, TypeError) as e:
            self._bad[kind] = f"{path}: {e}"
            return {}
        table: dict[int, Any] = {}
        for n, entry in enumerate(entries):
            try:
                if not isinstance(entry, dict):
                    raise AnnotationError("not an object")
                table[read_int(entry.get("id"), "id")] = entry
            except AnnotationError as err:
                self._bad[f"{kind}[{n}]"] = f"{kind}[{n}] of {path.name}: {err}"
        return table

    def items(self) -> list[str]:
        images, _, _ = self._read()
        return sorted([*(str(i) for i in images), *self._bad])

    def _image_rel(self, image_id: int) -> str | None:
        dirs = (self.image_dir,) if self.image_dir else self.image_dirs
        for d in dirs:
            for suffix in (".tif", ".png"):
                rel = f"{d}/{image_id}{suffix}"
                if (self.root / rel).is_file():
                    return rel
        return None

    def _qa(self, item: str, entry: dict[str, Any]) -> Iterator[QAPair | Skip]:
        _, questions, answers = self._read()
        for qid in entry["questions_ids"]:
            q = questions.get(_id(qid))  # type: ignore[arg-type]  # None finds nothing
            if q is None:
                yield self.skip(item, "malformed_annotation", f"question {qid} is not in {self.files['questions']}")
                continue
            if not q.get("active", True):
                continue
            try:
                a = answers[read_int(q["answers_ids"][0], "answers_ids[0]")]
                qtype = str(q.get("type", ""))
                yield QAPair(str(q["question"]).strip(), str(a["answer"]).strip(), QUESTION_TYPES.get(qtype, qtype))
            except (KeyError, IndexError, TypeError, ValueError) as e:  # AnnotationError is a ValueError
                yield self.skip(item, "malformed_annotation", f"question {qid}: answer missing ({e})")

    def load(self, item: str) -> Iterator[Record | Skip]:
        images, _, _ = self._read()
        if item in self._bad:
            yield self.skip(item, "malformed_annotation", self._bad[item])
            return
        entry = images.get(_id(item))  # type: ignore[arg-type]  # None finds nothing
        if entry is None or not isinstance(entry.get("questions_ids"), list):
            yield self.skip(item, "malformed_annotation", f"image {item} has no questions_ids list")
            return
        qa: list[QAPair] = []
        for x in self._qa(item, entry):
            if isinstance(x, Skip):
                yield x
            else:
                qa.append(x)
        if not qa:
            yield self.skip(item, "empty_annotation", f"image {item} has no active question")
            return
        rel = self._image_rel(read_int(item, "image id"))
        if rel is None:
            yield self.skip(
                item, "missing_image", f"image {item}.tif/.png not found in {self.image_dir or self.image_dirs}"
            )
            return
        ref = probe_ref(self, rel, str(entry.get("sensor") or self.default_sensor), item=item)
        if isinstance(ref, Skip):
            yield ref
            return
        yield VQARecord(id=item, source=self.name, split=self.split, image=ref, qa=tuple(qa))


def _id(raw: Any) -> int | None:
    """An entry id from json or an item name, None if it is not an integer written in ASCII digits."""
    try:
        return read_int(raw, "id")
    except AnnotationError:
        return None
