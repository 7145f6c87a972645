"""Records -> conversations with the paper's exact strings, normalised boxes and multi-round sessions."""

from __future__ import annotations

from pathlib import Path

import pytest

from earthgpt.data.conversation import ImagePart
from earthgpt.data.instructions import templates as T
from earthgpt.data.instructions.convert import InstructionOptions, to_conversations
from earthgpt.data.records import (
    CaptionRecord,
    DetectionRecord,
    GroundingRecord,
    ImageRef,
    QAPair,
    RegionCaptionRecord,
    SceneRecord,
    VQARecord,
)
from earthgpt.data.sources import get_source
from earthgpt.geometry import HBB, OBB, LabeledBox
from earthgpt.geometry.codec import parse_boxes

IMG = ImageRef(path="x.jpg", width=200, height=100)  # padded square: S=200, dy=50


def _base(**kw):  # type: ignore[no-untyped-def]
    return {"id": "r1", "source": "s", "split": "train", "image": IMG, **kw}


def test_paper_strings_are_verbatim() -> None:
    assert T.CAPTION == "Please provide a one-sentence caption for the provided RS image in detail."
    assert T.DETECT_HBB == "Detect all objects shown in the RS image and describe using horizontal bounding boxes"
    assert T.DETECT_OBB == "Detect all objects shown in the RS image and describe using oriented bounding boxes"
    assert T.classify_prompt(["a", "b c"]) == (
        "What is the category of this RS image? Answering the question using a single word or phrase. "
        "Reference categories include a, b c"
    )
    assert (
        T.vqa_prompt(" Is there a road? ") == "Is there a road? Answering the question using a single word or phrase."
    )


def test_classification_is_one_turn_with_the_reference_list() -> None:
    (conv,) = to_conversations(SceneRecord(**_base(label="river", categories=("forest", "river"))))
    assert [m.role for m in conv.messages] == ["user", "assistant"]
    assert conv.messages[0].text == T.classify_prompt(["forest", "river"]) and conv.messages[1].text == "river"
    assert isinstance(conv.messages[0].content[0], ImagePart) and conv.task == "scene"


def test_captions_deduplicated_one_round_each_image_once() -> None:
    caps = ("A river crosses the field.", "a river crosses the field", "  Two  bridges. ", "")
    (conv,) = to_conversations(CaptionRecord(**_base(captions=caps)))
    answers = [m.text for m in conv.messages if m.role == "assistant"]
    assert answers == ["A river crosses the field.", "Two bridges."]
    assert all(m.text == T.CAPTION for m in conv.messages if m.role == "user")
    images = [p for m in conv.messages for p in m.content if isinstance(p, ImagePart)]
    assert len(images) == 1


def test_vqa_one_round_per_pair_with_suffix() -> None:
    qa = (QAPair("Is there a road?", "yes", "presence"), QAPair("How many houses?", "3", "count"))
    (conv,) = to_conversations(VQARecord(**_base(qa=qa)))
    assert [m.text for m in conv.messages] == [
        T.vqa_prompt("Is there a road?"),
        "yes",
        T.vqa_prompt("How many houses?"),
        "3",
    ]
    assert conv.meta["qtypes"] == ["presence", "count"]


def test_detection_hbb_normalised_on_the_padded_square_and_referring_session() -> None:
    objs = (
        LabeledBox("ship", HBB(100, 50, 150, 100)),  # -> [0.5, 0.5, 0.75, 0.75] after dy=50, /200
        LabeledBox("car", HBB(0, 0, 20, 10)),  # -> [0, 0.25, 0.1, 0.3]
    )
    det, ref = to_conversations(DetectionRecord(**_base(objects=objs)))
    assert det.messages[0].text == T.DETECT_HBB
    assert det.messages[1].text == "car [0.000,0.250,0.100,0.300]; ship [0.500,0.500,0.750,0.750]"
    assert [m.text for m in ref.messages if m.role == "user"] == [
        T.DETECT_CATEGORY_HBB.format(category="car"),
        T.DETECT_CATEGORY_HBB.format(category="ship"),
    ]
    assert [m.text for m in ref.messages if m.role == "assistant"][1] == "ship [0.500,0.500,0.750,0.750]"
    assert len(to_conversations(DetectionRecord(**_base(objects=objs)), InstructionOptions(referring=False))) == 1


def test_detection_obb_uses_the_paper_point_order() -> None:
    # corners given in an arbitrary order; the first written must be the one closest to the origin
    obb = OBB((150.0, 100.0, 50.0, 100.0, 50.0, 0.0, 150.0, 0.0))
    (det,) = to_conversations(
        DetectionRecord(**_base(objects=(LabeledBox("tank", obb),))), InstructionOptions(referring=False)
    )
    assert det.messages[0].text == T.DETECT_OBB
    parsed = parse_boxes(det.messages[1].text, kind="obb").boxes[0].box
    assert isinstance(parsed, OBB)
    assert parsed.points[:2] == (0.25, 0.25)  # (50, 0) shifted by dy=50, divided by 200
    both = to_conversations(
        DetectionRecord(**_base(objects=(LabeledBox("tank", obb),))),
        InstructionOptions(referring=False, hbb_from_obb=True),
    )
    assert [c.task for c in both] == ["detection_obb", "detection_hbb"]
    assert both[1].messages[1].text == "tank [0.250,0.250,0.750,0.750]"


def test_grounding_both_directions() -> None:
    (vg,) = to_conversations(GroundingRecord(**_base(expression="the ship near the pier", box=HBB(0, 0, 200, 100))))
    assert vg.messages[0].text == T.GROUND.format(expression="the ship near the pier")
    assert vg.messages[1].text == "[0.000,0.250,1.000,0.750]"
    (rc,) = to_conversations(RegionCaptionRecord(**_base(box=HBB(0, 0, 200, 100), caption="a ship")))
    assert "[0.000,0.250,1.000,0.750]" in rc.messages[0].text and rc.messages[1].text == "a ship"


def test_paraphrases_are_seeded_and_default_off() -> None:
    rec = CaptionRecord(**_base(captions=("a", "b", "c", "d", "e", "f")))
    (plain,) = to_conversations(rec)
    assert {m.text for m in plain.messages if m.role == "user"} == {T.CAPTION}
    a = to_conversations(rec, InstructionOptions(paraphrase_seed=3))[0].to_dict()
    b = to_conversations(rec, InstructionOptions(paraphrase_seed=3))[0].to_dict()
    assert a == b
    texts = {m["content"][-1]["text"] for m in a["messages"] if m["role"] == "user"}
    assert texts <= set(T.PARAPHRASES[T.CAPTION])


def test_boxes_are_clipped_to_the_image_before_normalising() -> None:
    # a real HIT-UAV corner (0_100_60_0_08185, rotate_xml) ends at x = 640.00005 on its 640 px wide image
    image = ImageRef(path="x.jpg", width=640, height=512)  # S=640, dy=64
    obb = OBB((594.61115, 168.0555, 640.00005, 168.0555, 640.00005, 245.0193, 594.61115, 245.0193))
    record = DetectionRecord(id="r1", source="s", split="train", image=image, objects=(LabeledBox("car", obb),))
    (det,) = to_conversations(record, InstructionOptions(referring=False))
    (written,) = parse_boxes(det.messages[1].text, kind="obb").boxes
    assert max(written.box.as_tuple()[0::2]) == 1.0  # 640 / 640, not 640.00005 / 640
    assert min(written.box.as_tuple()[0::2]) == 0.929  # 594.61115 / 640 = 0.92908
    # an HBB half outside is cut at the edge; one wholly outside is left out of the answer
    objs = (LabeledBox("ship", HBB(-20, 10, 20, 30)), LabeledBox("car", HBB(300, 10, 320, 30)))
    (det,) = to_conversations(DetectionRecord(**_base(objects=objs)), InstructionOptions(referring=False))
    assert det.messages[1].text == "ship [0.000,0.300,0.100,0.400]"  # x from 0 (not -20) to 20, /200
    gone = DetectionRecord(**_base(objects=(LabeledBox("car", HBB(300, 10, 320, 30)),)))
    assert to_conversations(gone) == []
    with pytest.raises(ValueError, match="nan_coordinate"):  # a bug upstream: not clipped away in silence
        to_conversations(DetectionRecord(**_base(objects=(LabeledBox("car", HBB(1, 1, float("nan"), 5)),))))


def test_grounding_and_region_boxes_are_clipped() -> None:
    (vg,) = to_conversations(GroundingRecord(**_base(expression="the pier", box=HBB(100, 0, 200.4, 100.2))))
    assert vg.messages[1].text == "[0.500,0.250,1.000,0.750]"
    (rc,) = to_conversations(RegionCaptionRecord(**_base(box=HBB(-3, -3, 100, 50), caption="a ship")))
    assert "[0.000,0.250,0.500,0.500]" in rc.messages[0].text
    assert to_conversations(GroundingRecord(**_base(expression="x", box=HBB(210, 0, 220, 10)))) == []


def _row_of_ships(n: int) -> DetectionRecord:
    """``n`` ships and one car, listed right to left: reading order is left to right."""
    ships = [LabeledBox("ship", HBB(10.0 * k, 60, 10.0 * k + 5, 70)) for k in range(n - 1, -1, -1)]
    return DetectionRecord(**_base(objects=(*ships, LabeledBox("car", HBB(0, 0, 5, 5)))))


def test_max_objects_caps_each_answer_in_reading_order() -> None:
    record = _row_of_ships(5)
    det, ref = to_conversations(record, InstructionOptions(max_objects=3))
    written = parse_boxes(det.messages[1].text).boxes
    assert [b.label for b in written] == ["car", "ship", "ship"]  # the car is on top: first in reading order
    assert [b.box.as_tuple()[0] for b in written] == [0.0, 0.0, 0.05]  # ships at x = 0 and 10 px, not 40 and 30
    answers = [m.text for m in ref.messages if m.role == "assistant"]
    assert [len(parse_boxes(a).boxes) for a in answers] == [1, 3]  # car, then the first three ships
    assert det.meta == {"objects": 6} and ref.meta == {"objects": 6}
    det_all, _ = to_conversations(record)  # default: the paper's recipe, every box
    assert len(parse_boxes(det_all.messages[1].text).boxes) == 6 and det_all.meta == {}
    det_six, _ = to_conversations(record, InstructionOptions(max_objects=6))
    assert det_six.messages[1].text == det_all.messages[1].text and det_six.meta == {}


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_max_objects_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="max_objects"):
        InstructionOptions(max_objects=bad)  # type: ignore[arg-type]


def test_real_hit_uav_obb_records_all_convert(data_root: Path) -> None:
    """Every oriented HIT-UAV record converts, though some corners lie a hair outside their image."""
    outside = 0
    for out in get_source("hit_uav")(data_root / "hit_uav", "val", kind="obb"):
        if not isinstance(out, DetectionRecord):
            continue
        w, h = out.image.width, out.image.height
        outside += sum(not all(0 <= x <= w and 0 <= y <= h for x, y in o.box.corners()) for o in out.objects)
        det = to_conversations(out, InstructionOptions(referring=False))[0]
        boxes = parse_boxes(det.messages[1].text, kind="obb").boxes
        assert len(boxes) == len(out.objects)
        assert all(0.0 <= v <= 1.0 for b in boxes for v in b.box.as_tuple())
    assert outside >= 5  # the case this test is about does occur in the release (9 objects of the val split)


def test_max_rounds_cuts_a_long_vqa_record_into_conversations_that_each_open_with_the_image() -> None:
    qa = tuple(
        QAPair(f"Is there a road {i}?", "yes" if i % 2 else "no", "presence" if i % 3 else "comp") for i in range(23)
    )
    record = VQARecord(**_base(qa=qa))
    (whole,) = to_conversations(record)  # the paper's recipe: one conversation per image
    parts = to_conversations(record, InstructionOptions(max_rounds=10))
    assert [c.id for c in parts] == ["r1:vqa", "r1:vqa.1", "r1:vqa.2"]
    assert [len(c.messages) // 2 for c in parts] == [10, 10, 3]
    for c in parts:
        images = [[part.image for part in m.content if isinstance(part, ImagePart)] for m in c.messages]
        assert images[0] == [IMG] and not any(images[1:])
        assert len(c.meta["qtypes"]) == len(c.messages) // 2
    assert [m.text for c in parts for m in c.messages] == [m.text for m in whole.messages]
    assert [t for c in parts for t in c.meta["qtypes"]] == whole.meta["qtypes"]
    (fits,) = to_conversations(record, InstructionOptions(max_rounds=23))
    assert fits == whole  # a record that fits keeps its id and content


@pytest.mark.parametrize("bad", [0, -3, 1.5, False])
def test_max_rounds_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="max_rounds"):
        InstructionOptions(max_rounds=bad)  # type: ignore[arg-type]
