"""CRSVQA: complex remote sensing VQA, one text file of alternating question/answer lines per image."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from earthgpt.data.records import QAPair, Record, VQARecord
from earthgpt.data.sources._shared import IMAGE_SUFFIXES, check_fraction, found_ref, hash_split
from earthgpt.data.sources.base import DataRootError, Skip, Source, register

TEXT_DIRS = ("text", "texts", "Text")
IMAGE_DIRS = ("image", "images", "Image")


def read_pairs(path: Path) -> tuple[list[QAPair], bool]:
    """(pairs, dangling) from one CRSVQA text file: line 2k is a question, line 2k+1 its answer.

    Lines end in CRLF; a full-width question mark '？' is made '?'; ``dangling`` says a last question had no
    answer line.
    """
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8-sig", errors="replace").splitlines()]
    lines = [ln for ln in lines if ln]
    pairs = []
    for k in range(0, len(lines) - 1, 2):
        question = re.sub("？", "?", lines[k])
        pairs.append(QAPair(question, lines[k + 1]))
    return pairs, len(lines) % 2 == 1


@register
class CRSVQA(Source):
    """CRSVQA (Complex Remote Sensing VQA), visual question answering with multi-step questions.

    * Modality: optical RGB (Google Earth scenes, e.g. from DOTA), PNG.
    * Task: VQA with complex, relational questions; the paper reports supervised overall accuracy on it.
    * Size: about 4,639 images with one or more question-answer pairs each.
    * On-disk format: ``text/<stem>.txt`` holding alternating lines question, answer, question, answer, ...
      (CRLF line ends, some questions with a full-width '？'), and ``image/<stem>.png``. ``root`` holds both
      folders (``data/`` in the authors' code).
    * Splits: none shipped. Here a deterministic SHA-1 hash of ``<stem>`` sends ``test_fraction`` (default 0.2)
      of the images to "test".
    * Citation: M. Zhang, F. Chen, B. Li, "Multistep Question-Driven Visual Question Answering for Remote Sensing",
      IEEE TGRS 61, 2023 (CRSVQA).
    * Format relied on (no real files here): the reader in the authors' code (MeimeiZhang-data/MQVQA,
      ``dataset.py``: ``data/text/*.txt`` paired with ``data/image/<stem>.png``).
    """

    name = "crsvqa"
    tasks = ("vqa",)
    splits = ("train", "test", "all")

    def __init__(self, root: str | Path, split: str = "train", test_fraction: float = 0.2) -> None:
        super().__init__(root, split)
        self.test_fraction = check_fraction(self.name, test_fraction)
        texts = [self.root / d for d in TEXT_DIRS if (self.root / d).is_dir()]
        images = [self.root / d for d in IMAGE_DIRS if (self.root / d).is_dir()]
        if not texts or not images:
            raise DataRootError(f"crsvqa: {self.root} needs a text/ and an image/ folder; pass the CRSVQA data folder")
        self.text_dir, self.image_dir = texts[0], images[0]

    def items(self) -> list[str]:
        stems = sorted(p.stem for p in self.text_dir.glob("*.txt"))
        if self.split == "all":
            return stems
        return [s for s in stems if hash_split(s, self.test_fraction) == self.split]

    def _image_rel(self, stem: str) -> str | None:
        for suffix in (".png", *IMAGE_SUFFIXES):
            p = self.image_dir / f"{stem}{suffix}"
            if p.is_file():
                return p.relative_to(self.root).as_posix()
        return None

    def load(self, item: str) -> Iterator[Record | Skip]:
        path = self.text_dir / f"{item}.txt"
        try:
            pairs, dangling = read_pairs(path)
        except OSError as e:
            yield self.skip(item, "missing_annotation", f"{path}: {e}")
            return
        if dangling:
            yield self.skip(item, "malformed_annotation", f"{path}: the last question has no answer line")
        if not pairs:
            yield self.skip(item, "empty_annotation", f"{path} holds no question-answer pair")
            return
        ref = found_ref(self, self._image_rel(item), item, f"no {item}.png in {self.image_dir}")
        if isinstance(ref, Skip):
            yield ref
            return
        split = self.split if self.split != "all" else hash_split(item, self.test_fraction)
        yield VQARecord(id=item, source=self.name, split=split, image=ref, qa=tuple(pairs))
