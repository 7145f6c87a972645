"""EarthGPT-X conversions: prompts, answers and masks from real records; geometry text by hand; the build counts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from earthgpt.data.corpus.config import BuildConfig, SourceSpec
from earthgpt.data.corpus.runner import build
from earthgpt.data.instructions.convert import InstructionOptions, conversations_and_skips, to_conversations
from earthgpt.data.instructions.region_text import describe, orientation, position, relation
from earthgpt.data.instructions.regions import X_TASKS, Target
from earthgpt.data.masks import point_in_mask
from earthgpt.data.records import DetectionRecord, GroundingRecord, ImageRef
from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB, OBB, LabeledBox
from earthgpt.geometry.prompts import RleMask

ALL = InstructionOptions(x_tasks=X_TASKS)
SUBSET = "subset_offshore_train_30imgs.json"


def _hrsid(data_root: Path) -> list[DetectionRecord]:
    source = get_source("hrsid")(data_root / "hrsid_modified_coco", "train", annotations=SUBSET, images="images")
    return [r for item in source.items() for r in source.load(item) if isinstance(r, DetectionRecord)]


def _by_task(record: DetectionRecord, opts: InstructionOptions = ALL) -> dict[str, list]:
    out: dict[str, list] = {}
    for c in to_conversations(record, opts):
        out.setdefault(c.task, []).append(c)
    return out


def test_default_options_make_exactly_the_paper_conversations(data_root: Path) -> None:
    record = _hrsid(data_root)[0]
    assert {c.task for c in to_conversations(record)} == {"detection_hbb", "referring_hbb"}
    assert all(not c.prompts and not c.masks for c in to_conversations(record))


def test_region_classification_names_each_prompted_object(data_root: Path) -> None:
    records = _hrsid(data_root)
    many = next(r for r in records if len(r.objects) >= 3)
    conv = _by_task(many)["region_classification"][0]
    question, answer = conv.messages[0].text, conv.messages[1].text
    k = len(conv.prompts)
    assert k == 3 and re.findall(r"<region(\d)>", question) == ["1", "2", "3"]
    assert answer == "Region 1: ship; Region 2: ship; Region 3: ship"
    for p in conv.prompts:
        p.validate(many.image.width, many.image.height)
    for p, kind in zip(conv.prompts, conv.meta["prompt_kinds"], strict=True):
        assert p.kind == kind
        if kind == "point":  # inside one of the objects' masks
            assert any(m is not None and point_in_mask(m, *p.points[0]) for m in many.masks)


def test_choices_repeat_with_the_seed_and_change_with_another(data_root: Path) -> None:
    records = _hrsid(data_root)
    again = [c.to_dict() for r in records for c in to_conversations(r, ALL)]
    assert again == [c.to_dict() for r in records for c in to_conversations(r, ALL)]
    other = InstructionOptions(x_tasks=X_TASKS, x_seed=1)
    assert again != [c.to_dict() for r in records for c in to_conversations(r, other)]


def test_pixel_grounding_masks_are_the_annotated_union(data_root: Path) -> None:
    record = next(r for r in _hrsid(data_root) if len(r.objects) >= 2)
    convs = _by_task(record)["pixel_grounding"]
    by_class = next(c for c in convs if not c.prompts)
    assert by_class.messages[1].text.count("<seg>") == len(by_class.masks) == 1
    assert by_class.meta == {"mask": "annotated", "instances": len(record.objects)}
    union = np.zeros((record.image.height, record.image.width), bool)
    for m in record.masks:
        assert m is not None
        union |= m.to_array()
    assert np.array_equal(by_class.masks[0].to_array(), union)
    by_point = next(c for c in convs if c.prompts)
    assert by_point.prompts[0].kind == "point"
    assert point_in_mask(by_point.masks[0], *by_point.prompts[0].points[0])


def test_weak_masks_are_marked_where_a_source_has_only_boxes() -> None:
    image = ImageRef("x.png", 100, 80)
    record = GroundingRecord("g", "dior_rsvg", "train", image, expression="the red car", box=HBB(10, 10, 30, 20))
    convs, skips = conversations_and_skips(record, ALL)
    seg = next(c for c in convs if c.task == "pixel_grounding")
    assert seg.meta == {"mask": "weak_box"} and not skips
    assert seg.masks[0].to_array().sum() == 20 * 10
    assert "the red car" in seg.messages[0].text


def test_zoom_session_goes_scene_region_object() -> None:
    image = ImageRef("x.png", 200, 200)
    objs = (LabeledBox("ship", HBB(10, 10, 20, 20)), LabeledBox("ship", HBB(30, 20, 40, 30)))
    objs += (LabeledBox("harbor", HBB(150, 150, 190, 190)),)
    record = DetectionRecord("d", "s", "train", image, objects=objs)
    conv = _by_task(record, InstructionOptions(x_tasks=("zoom",)))["zoom"][0]
    answers = [m.text for m in conv.messages if m.role == "assistant"]
    assert answers[0] == "harbor: 1; ship: 2"
    assert conv.views == "region:1" and len(conv.prompts) == 2
    quarter = conv.prompts[0].points
    assert quarter in (((0.0, 0.0), (100.0, 100.0)), ((100.0, 100.0), (200.0, 200.0)))
    assert answers[1] == ("ship: 2" if quarter[0] == (0.0, 0.0) else "harbor: 1")
    assert answers[2] in ("Region 2: ship", "Region 2: harbor")
    assert "<region1>" in conv.messages[2].text and "<region2>" in conv.messages[4].text


def test_geometry_text_by_hand() -> None:
    image = ImageRef("x.png", 300, 300)
    left = Target("ship", HBB(10, 140, 30, 160))  # 20x20, middle left
    right = Target("tank", HBB(200, 20, 260, 80))  # 60x60, top right
    assert relation(left, right, image, "<region1>", "<region2>") == (
        "<region1> is left of and below <region2>; it is farther from the image centre and smaller."
    )
    assert position(left.box, image) == "left" and position(right.box, image) == "top right"
    assert position(HBB(140, 140, 160, 160), image) == "centre"
    assert orientation(HBB(0, 0, 40, 10)) == " lying horizontally"
    assert orientation(HBB(0, 0, 10, 40)) == " lying vertically"
    assert orientation(HBB(0, 0, 10, 11)) == ""
    diagonal = OBB((0.0, 0.0, 10.0, -10.0, 50.0, 30.0, 40.0, 40.0))  # long side from top left to bottom right
    assert orientation(diagonal) == " lying diagonally from top left to bottom right"
    assert describe(left, image) == "A medium-sized ship, in the left of the image."


def test_a_point_outside_its_mask_is_skipped_by_reason() -> None:
    image = ImageRef("x.png", 10, 10)
    ring = np.zeros((10, 10), bool)
    ring[2:8, 2:8] = True
    record = DetectionRecord(
        "d", "s", "train", image, objects=(LabeledBox("ship", HBB(2, 2, 8, 8)),), masks=(RleMask.from_array(ring),)
    )
    from earthgpt.data.instructions import regions

    def outside(mask: RleMask | None, box: object, rng: object) -> tuple[float, float]:
        return (0.5, 0.5)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(regions, "sample_point", outside)
        convs, skips = conversations_and_skips(record, InstructionOptions(x_tasks=("pixel_grounding",)))
    assert [r for r, _ in skips] == ["point_outside_mask"]
    assert all(not c.prompts for c in convs)  # the class-level conversation is kept, the point one is not


def test_build_writes_prompts_and_masks_and_counts_tasks(data_root: Path, tmp_path: Path) -> None:
    spec = SourceSpec("hrsid", "hrsid_modified_coco", ["train"], {"annotations": SUBSET, "images": "images"})
    config = BuildConfig(sources=[spec], data_root=str(data_root), out_dir=str(tmp_path / "out"), instructions=ALL)
    build(config)
    manifest = json.loads((tmp_path / "out/manifest.json").read_text())
    made = manifest["counts"]["conversations"]["by_task"]
    assert made["region_classification"] == made["region_description"] == made["detection_hbb"] == 30
    assert made["pixel_grounding"] == 60  # per image: the class "ship" and one point prompt
    assert made["region_relation"] == made["zoom"] > 0  # images with two ships or more
    lines = [json.loads(line) for line in (tmp_path / "out/conversations-00000.jsonl").open()]
    seg = next(d for d in lines if d["task"] == "pixel_grounding")
    assert seg["masks"][0]["size"] == [800, 800]
    zoom = next(d for d in lines if d["task"] == "zoom")
    assert zoom["views"] == "region:1" and len(zoom["prompts"]) == 2
    from earthgpt.data.conversation import Conversation

    assert Conversation.from_dict(zoom).prompts[0].kind == "box"
    for d in lines:  # what the chat template requires (contract.md): every prompt named, one mask per <seg>
        conv = Conversation.from_dict(d)
        user = " ".join(m.text for m in conv.messages if m.role == "user")
        assistant = " ".join(m.text for m in conv.messages if m.role == "assistant")
        named = {int(k) for k in re.findall(r"<region(\d+)>", user)}
        assert named == set(range(1, len(conv.prompts) + 1)), conv.id
        assert assistant.count("<seg>") == len(conv.masks), conv.id
        image = conv.image
        assert image is not None
        for i, p in enumerate(conv.prompts):
            p.validate(image.width, image.height, f"{conv.id} prompt {i}")
        assert all((m.height, m.width) == (image.height, image.width) for m in conv.masks)
