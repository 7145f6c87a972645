"""FloodNet Track 2: post-flood UAV visual question answering, read from its per-split question json."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from earthgpt.data.records import QAPair, Record, VQARecord
from earthgpt.data.sources._karpathy import load_json
from earthgpt.data.sources._shared import ImageFinder, IndexedSource, found_ref
from earthgpt.data.sources.base import DataRootError, Skip, register

QUESTION_FILES = {
    "train": ("Training Question.json", "Training_Question.json"),
    "val": ("Valid Question.json", "Valid_Question.json"),
    "test": ("Test_Question.json", "Test Question.json"),
}
IMAGE_DIRS = {"train": "Train_Image", "val": "Valid_Image", "test": "Test_Image"}


@register
class FloodNetVQA(IndexedSource[list[tuple[str, Any]]]):
    """FloodNet (Track 2 of the EarthVision 2021 challenge), visual question answering.

    * Modality: optical RGB UAV imagery after Hurricane Harvey (2017), about 1.5 cm per pixel, 4000x3000 px JPEG.
    * Task: VQA; question types Yes_No, Condition_Recognition, Simple_Counting, Complex_Counting (kept in
      lower case: ``yes_no``, ``condition_recognition``, ``simple_counting``, ``complex_counting``).
    * Size: 2,348 images and about 7,355 questions (train 1,448 images / 4,511 questions).
    * On-disk format: ``Questions/Training Question.json``, ``Questions/Valid Question.json``,
      ``Questions/Test_Question.json`` (note the space in two names and the underscore in the third), each a
      dict ``{"0": {"Image_ID": "10165.JPG", "Question": "...", "Ground_Truth": "flooded" | 4,
      "Question_Type": "Condition_Recognition"}, ...}``; counts are JSON numbers (made strings here). Images:
      ``Images/Train_Image/``, ``Images/Valid_Image/``, ``Images/Test_Image/`` (found by file name below ``root``
      if elsewhere). ``root`` is the Track 2 folder. Questions without ``Ground_Truth`` (the challenge withheld
      answers of the later splits) are skipped as "missing_annotation".
    * Splits: train, val, test (the three question files).
    * Citation: M. Rahnemoonfar et al., "FloodNet: A High Resolution Aerial Imagery Dataset for Post Flood Scene
      Understanding", IEEE Access 9, 2021.
    * Format relied on (no real files here): public loaders of the Track 2 release (file names, keys).
    """

    name = "floodnet_vqa"
    tasks = ("vqa",)
    splits = ("train", "val", "test")

    def __init__(self, root: str | Path, split: str = "train") -> None:
        super().__init__(root, split)
        folders = [self.root / "Questions", self.root]
        found = [f / n for f in folders for n in QUESTION_FILES[split] if (f / n).is_file()]
        if not found:
            raise DataRootError(
                f"floodnet_vqa: {' or '.join(QUESTION_FILES[split])} not found in {self.root / 'Questions'}; "
                "pass the FloodNet Track 2 folder that holds Questions/ and Images/"
            )
        self.question_file = found[0]
        self._finder = ImageFinder(self.root)

    def read_entries(self) -> dict[str, list[tuple[str, Any]]]:
        groups: dict[str, list[tuple[str, Any]]] = {}
        try:
            data = load_json(self.question_file)
            entries = list(data.items())
        except (OSError, ValueError, AttributeError) as e:
            self._bad["questions"] = f"{self.question_file}: {e}"
            entries = []
        for key, q in entries:
            image = q.get("Image_ID") if isinstance(q, dict) else None
            if not isinstance(image, str) or not isinstance(q.get("Question"), str):
                self._bad[f"question:{key}"] = f"question {key} lacks Image_ID or Question"
                continue
            groups.setdefault(image, []).append((str(key), q))
        return groups

    def load_entry(self, item: str, questions: list[tuple[str, Any]] | None) -> Iterator[Record | Skip]:
        qa: list[QAPair] = []
        for key, q in questions or []:
            answer = q.get("Ground_Truth")
            if answer is None or isinstance(answer, (dict, list)):
                yield self.skip(item, "missing_annotation", f"question {key} has no Ground_Truth")
                continue
            qtype = str(q.get("Question_Type", "")).strip().lower()
            qa.append(QAPair(q["Question"].strip(), str(answer).strip(), qtype))
        if not qa:
            return
        rel = self._finder.find(item, f"Images/{IMAGE_DIRS[self.split]}/{item}")
        ref = found_ref(self, rel, item, f"{item} ({self.question_file.name}) is not below {self.root}", "UAV")
        if isinstance(ref, Skip):
            yield ref
            return
        yield VQARecord(id=Path(item).stem, source=self.name, split=self.split, image=ref, qa=tuple(qa))
