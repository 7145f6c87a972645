"""One split definition per benchmarked dataset, shared by the corpus builder and the evaluation tasks.

A dataset that one of the paper's benchmarks reads (``earthgpt.evaluation.tasks.registry.PAPER_TASKS``) has one
:class:`SplitDefinition` here: the source options that decide which item falls in which split (a hash split's
``test_fraction``, DIOR-RSVG's split release) and the splits a corpus may train on. The builder opens these sources
only with these options and refuses any other split; the tasks open them with the same options. So a benchmark's
items are outside every training split of its dataset by construction: a hash split is a partition of the items
for one fraction, and an official split list is disjoint from the others by the release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SPLITS", "SplitDefinition", "SplitError", "check_training_split", "split_options", "training_splits"]


class SplitError(ValueError):
    """A build entry or a task that would break its dataset's split definition (a benchmark leak)."""


@dataclass(frozen=True)
class SplitDefinition:
    """How one dataset is split, for training and for its benchmark alike."""

    options: Mapping[str, Any] = field(default_factory=dict)
    """Source options that decide the partition; every reader of the dataset uses exactly these."""
    training: tuple[str, ...] = ("train",)
    """The splits a corpus may be built from; () when the benchmark reads the whole dataset (zero-shot sets)."""
    benchmark: str = ""
    """Which benchmark reserves the rest, for messages."""


SPLITS: dict[str, SplitDefinition] = {
    # Tab. II: 20% train / 80% test, the NWPU-RESISC45 protocol; Table I's 6,300 is the 20%.
    "nwpu_resisc45": SplitDefinition({"test_fraction": 0.8}, ("train",), "Tab. II (80% of the images)"),
    # Tab. V: 10% of the images; Table I's 900 is the other 90%.
    "crsvqa": SplitDefinition({"test_fraction": 0.1}, ("train",), "Tab. V (10% of the images)"),
    "nwpu_captions": SplitDefinition({}, ("train", "val"), "Tab. IV (the official test split)"),
    # The early and current releases list other expressions in their test files: the current one is the benchmark.
    "dior_rsvg": SplitDefinition({"split_release": "current"}, ("train", "val"), "Tab. VII (DIOR_RSVG/test.txt)"),
    "rsvqa_hr": SplitDefinition({}, ("train", "val"), "Tab. VI (test set 2, Philadelphia)"),
    "mar20": SplitDefinition({}, ("train", "val"), "Tabs. VIII-IX (the official test split)"),
    "clrs": SplitDefinition({}, (), "Tab. III (zero-shot over every image)"),
    "nasc_tg2": SplitDefinition({}, (), "Tab. III (zero-shot over every image)"),
}


def split_options(source: str, options: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``options`` with the dataset's split-defining options filled in; SplitError naming ``where`` when
    ``options`` sets one of them to another value."""
    definition = SPLITS.get(source)
    if definition is None:
        return dict(options)
    for key, value in definition.options.items():
        if key in options and options[key] != value:
            raise SplitError(
                f"{where}: option {key}={options[key]!r} changes the split of {source}, whose benchmark "
                f"{definition.benchmark} is defined with {key}={value!r} (earthgpt.data.corpus.splits); remove "
                "the option so that no benchmark item can land in a training split"
            )
    return {**options, **definition.options}


def check_training_split(source: str, split: str, where: str) -> None:
    """SplitError naming ``where`` if ``split`` of ``source`` holds benchmark items (may not be trained on)."""
    definition = SPLITS.get(source)
    if definition is None or split in definition.training:
        return
    allowed = ", ".join(definition.training) or "none: the benchmark reads every item"
    raise SplitError(
        f"{where}: split {split!r} of {source} holds items of the benchmark {definition.benchmark}; a corpus may "
        f"train on: {allowed}. Remove {split!r} from the entry's splits"
    )


def training_splits(source: str, splits: tuple[str, ...]) -> tuple[str, ...]:
    """The ones of ``splits`` (a source's splits) that a corpus may be built from."""
    definition = SPLITS.get(source)
    return splits if definition is None else tuple(s for s in splits if s in definition.training)
