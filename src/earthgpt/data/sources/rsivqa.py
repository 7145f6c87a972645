"""RSIVQA: visual question answering over UCM, Sydney, AID, HRRSD and DOTA images, read from its txt files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from earthgpt.data.records import QAPair, Record, VQARecord
from earthgpt.data.sources._shared import ImageFinder, IndexedSource, check_fraction, found_ref, hash_split
from earthgpt.data.sources.base import DataRootError, Skip, register


def parse_line(line: str) -> tuple[str, str, str] | None:
    """``"12.tif:how many planes are there?3"`` -> (image, question with its '?', answer); None if malformed."""
    image, sep, rest = line.partition(":")
    question, qmark, answer = rest.rpartition("?")
    if not sep or not qmark or not image.strip() or not question.strip() or not answer.strip():
        return None
    return image.strip(), question.strip() + "?", answer.strip()


@register
class RSIVQA(IndexedSource[list[QAPair]]):
    """RSIVQA (Remote Sensing Image Visual Question Answering).

    * Modality: optical RGB, images of five existing datasets: UCM (UC Merced captions' numbered TIFFs), Sydney,
      AID, HRRSD and DOTA; the images are NOT shipped with the question files and must be placed under each
      subset's folder (any depth).
    * Task: VQA (scene theme, object presence and counting questions, generated from the source labels).
    * Size: 37,264 images, 111,134 question-answer pairs.
    * On-disk format: ``<root>/<Subset>/<name>_vqa*.txt`` (``UCM/ucm_vqa.txt``, ``Sydney/sydney_vqa.txt``,
      ``AID/rsicd_vqa.txt``, ``HRRSD/opt_val_vqa.txt``, ``DOTA/dota_train_vqa2.txt``, ``DOTA/dota_val_vqa2.txt``),
      one pair per line as ``<image file>:<question>?<answer>``, e.g. ``1.tif:what is the theme of this
      picture?farmland``. Other txt files (e.g. ``UCM/ucm_res.txt``) are ignored. Images are looked up by file
      name below ``<root>/<Subset>``. All pairs of one image make one record.
    * Splits: none official for most subsets. Here a deterministic SHA-1 hash of ``<Subset>/<image>`` sends
      ``test_fraction`` (default 0.2) of the images to "test".
    * Citation: X. Zheng, B. Wang, X. Du, X. Lu, "Mutual Attention Inception Network for Remote Sensing Visual
      Question Answering", IEEE TGRS 60, 2022.
    * Format relied on: the txt files of the authors' repository (spectralpublic/RSIVQA).
    """

    name = "rsivqa"
    tasks = ("vqa",)
    splits = ("train", "test", "all")

    def __init__(self, root: str | Path, split: str = "train", test_fraction: float = 0.2) -> None:
        super().__init__(root, split)
        self.test_fraction = check_fraction(self.name, test_fraction)
        self.qa_files = sorted(p for p in self.root.glob("*/*.txt") if "vqa" in p.name.lower())
        if not self.qa_files:
            raise DataRootError(
                f"rsivqa: no <Subset>/*vqa*.txt file in {self.root}; pass the RSIVQA folder holding UCM/, "
                "Sydney/, AID/, HRRSD/, DOTA/"
            )
        self._finders: dict[str, ImageFinder] = {}

    def read_entries(self) -> dict[str, list[QAPair]]:
        groups: dict[str, list[QAPair]] = {}
        for path in self.qa_files:
            subset = path.parent.name
            with open(path, encoding="utf-8-sig", errors="replace") as f:
                for n, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    parsed = parse_line(line.strip())
                    if parsed is None:
                        self._bad[f"{subset}/{path.name}:{n}"] = f"expected '<image>:<question>?<answer>': {line!r}"
                        continue
                    key = f"{subset}/{parsed[0]}"
                    if self.split == "all" or hash_split(key, self.test_fraction) == self.split:
                        groups.setdefault(key, []).append(QAPair(parsed[1], parsed[2]))
        return groups

    def load_entry(self, item: str, qa: list[QAPair] | None) -> Iterator[Record | Skip]:
        if not qa:
            yield self.skip(item, "missing_annotation", f"{item} has no question in {self.split}")
            return
        subset, image = item.split("/", 1)
        rel = self._finders.setdefault(subset, ImageFinder(self.root / subset)).find(image)
        rel = None if rel is None else f"{subset}/{rel}"
        ref = found_ref(self, rel, item, f"{image} is not below {self.root / subset}")
        if isinstance(ref, Skip):
            yield ref
            return
        split = self.split if self.split != "all" else hash_split(item, self.test_fraction)
        yield VQARecord(id=f"{subset}/{Path(image).stem}", source=self.name, split=split, image=ref, qa=tuple(qa))
