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


# --- Ours (EarthGPT-X): region-, relation-, pixel- and zoom-level instructions. The paper prints none of them. ---
# ``{regions}`` / ``{region}`` are ``<regionK>`` names: the chat template follows each with the prompt's feature.
#: referring object classification; the answer is "Region 1: <label>; Region 2: <label>" (Osprey's answer form,
#: which its SS / S-IoU cleaning reads: the text after "Region K:")
REFER = "What is the category of {regions}? Answer in the form 'Region K: category' for each region, separated by ';'."
REFER_ANSWER = "Region {index}: {label}"
#: region captioning (the VG-to-instruction second format with a visual prompt in place of the box text)
REGION_DESCRIBE = "Please describe the object in {region} of the RS image."
#: the templated description where a source has no expression: size, class, orientation, position
REGION_TEMPLATE = "A {size} {label}{orientation}, in the {position} of the image."
#: relations between two regions, computed from the geometry
RELATION = "Where is {a} relative to {b}? Compare their positions, distance to the image centre and size."
RELATION_ANSWER = "{a} {position} {b}; it is {nearer} the image centre and {larger}."
#: pixel grounding: a class (every instance: one mask, their union), an expression, or a region prompt
SEGMENT_CLASS = "Please segment every {label} in this RS image."
SEGMENT_EXPRESSION = "Please segment the object described as follows: {expression}"
SEGMENT_REGION = "Please segment the {label} in {region}."
SEGMENT_ANSWER = "Sure, <seg>."
#: multi-level (zoom) session: scene, then a region of it, then one object in that region
ZOOM_SCENE = "What objects does this RS image show? Give the number of each category."
ZOOM_REGION = "How many objects of each category are in {region}?"
ZOOM_OBJECT = "What is the category of the object in {region}? Answer in the form 'Region K: category'."
