"""Every instruction string in one place: the paper's exact strings (Section IV) and ours where the paper gives none."""

from __future__ import annotations

import random
from collections.abc import Sequence

# --- The paper's strings (EarthGPT, Section IV), verbatim. ---
SINGLE_WORD = "Answering the question using a single word or phrase."
CLASSIFY = "What is the category of this RS image? " + SINGLE_WORD + " Reference categories include {categories}"
CAPTION = "Please provide a one-sentence caption for the provided RS image in detail."
DETECT_HBB = "Detect all objects shown in the RS image and describe using horizontal bounding boxes"
DETECT_OBB = "Detect all objects shown in the RS image and describe using oriented bounding boxes"

# --- Ours: the paper describes these conversations but does not print their strings. ---
#: referring detection: "an additional multi-round conversation session ... to detect objects of each category"
DETECT_CATEGORY_HBB = (
    "Detect all objects of category {category} shown in the RS image and describe using horizontal bounding boxes"
)
DETECT_CATEGORY_OBB = (
    "Detect all objects of category {category} shown in the RS image and describe using oriented bounding boxes"
)
#: VG-to-instruction, first format: locate the described object
GROUND = "Locate the object described as follows and give its horizontal bounding box: {expression}"
#: VG-to-instruction, second format: describe the given region
REGION_CAPTION = "Please describe the object in the region {box} of the RS image."

#: Optional paraphrases (off by default: the paper's strings are the default). The first entry is always the paper's.
PARAPHRASES: dict[str, tuple[str, ...]] = {
    CAPTION: (
        CAPTION,
        "Describe this RS image in one detailed sentence.",
        "Write a one-sentence description of this remote sensing image.",
    ),
    DETECT_HBB: (
        DETECT_HBB,
        "Find every object in this RS image and give each one's horizontal bounding box",
    ),
    DETECT_OBB: (
        DETECT_OBB,
        "Find every object in this RS image and give each one's oriented bounding box",
    ),
}


def classify_prompt(categories: Sequence[str]) -> str:
    """The category-to-instruction question with the reference category list."""
    return CLASSIFY.format(categories=", ".join(categories))


def vqa_prompt(question: str) -> str:
    """The VQA-to-instruction question: the original question followed by the single-word suffix."""
    return f"{question.strip()} {SINGLE_WORD}"


def pick(template: str, rng: random.Random | None) -> str:
    """The template itself, or (with an rng) a seeded choice among its paraphrases."""
    if rng is None:
        return template
    return rng.choice(PARAPHRASES.get(template, (template,)))
