"""Flips and quarter turns that move every coordinate with the image: hand-computed transforms, pixels, rasters,
the text of boxes, the safety rule and the seeded choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from earthgpt.data.augment import Augmentation, Dihedral, eligibility, ineligible_reason, orientation_words
from earthgpt.data.chat_template import ChatTemplate
from earthgpt.data.conversation import Conversation, Message
from earthgpt.data.dataset import ConversationDataset
from earthgpt.data.records import ImageRef
from earthgpt.data.tokenizer import train_tokenizer
from earthgpt.errors import ConfigError
from earthgpt.geometry.boxes import HBB, OBB
from earthgpt.geometry.normalize import normalize
from earthgpt.geometry.order import order_obb
from earthgpt.geometry.prompts import RleMask, VisualPrompt
from earthgpt.models.prompts.rasterise import rasterise_mask, rasterise_prompts
from earthgpt.training.config import TrainConfig

OPS = {
    "hflip": Dihedral.of(["hflip"]),
    "vflip": Dihedral.of(["vflip"]),
    "rot90": Dihedral.of(["rot90"]),
    "rot180": Dihedral.of(["rot90"] * 2),
    "rot270": Dihedral.of(["rot90"] * 3),
}
SQUARE = ImageRef(path="rsscn7/aGrass/a001.jpg", width=400, height=400)


def test_the_group_composes_like_flips_and_turns() -> None:
    assert Dihedral.of(["rot90"] * 4).is_identity
    assert OPS["rot180"] == Dihedral.of(["hflip", "vflip"])
    assert Dihedral.of(["hflip", "hflip"]).is_identity
    assert Dihedral.of(["hflip", "rot90"]) != Dihedral.of(["rot90", "hflip"])  # not commutative
    with pytest.raises(ValueError, match="unknown augmentation 'rot45'"):
        Dihedral().then("rot45")


# (x, y) = (0.1, 0.2) by hand: hflip (0.9, 0.2); vflip (0.1, 0.8); clockwise turn (1 - y, x) = (0.8, 0.1);
# twice (0.9, 0.8); three times (y, 1 - x) = (0.2, 0.9).
POINT = {"hflip": (0.9, 0.2), "vflip": (0.1, 0.8), "rot90": (0.8, 0.1), "rot180": (0.9, 0.8), "rot270": (0.2, 0.9)}
HBB_TEXT = {  # [0.100,0.200,0.300,0.500] by hand, corners re-sorted so that x1 < x2, y1 < y2
    "hflip": "[0.700,0.200,0.900,0.500]",
    "vflip": "[0.100,0.500,0.300,0.800]",
    "rot90": "[0.500,0.100,0.800,0.300]",
    "rot180": "[0.700,0.500,0.900,0.800]",
    "rot270": "[0.200,0.700,0.500,0.900]",
}


@pytest.mark.parametrize("op", list(OPS))
def test_points_and_boxes_by_hand(op: str) -> None:
    turn = OPS[op]
    assert turn.point(0.1, 0.2) == pytest.approx(POINT[op])
    px = turn.point(10, 20, 100, 100)
    assert px == pytest.approx((100 * POINT[op][0], 100 * POINT[op][1]))
    assert turn.text("car [0.100,0.200,0.300,0.500]") == "car " + HBB_TEXT[op]
    moved = turn.box(HBB(0.1, 0.2, 0.3, 0.5))
    assert isinstance(moved, HBB) and moved.x1 < moved.x2 and moved.y1 < moved.y2


def test_an_obb_moves_and_is_put_back_in_the_papers_corner_order() -> None:
    text = "ship [0.200,0.100,0.400,0.200,0.300,0.400,0.100,0.300]"  # already in the paper's order
    # hflip by hand: corners (0.8,0.1) (0.6,0.2) (0.7,0.4) (0.9,0.3); the corner nearest the origin is (0.6,0.2),
    # then by angle about it: (0.8,0.1) (0.9,0.3) (0.7,0.4)
    assert OPS["hflip"].text(text) == "ship [0.600,0.200,0.800,0.100,0.900,0.300,0.700,0.400]"
    # clockwise turn (1 - y, x): (0.9,0.2) (0.8,0.4) (0.6,0.3) (0.7,0.1) -> first (0.6,0.3), then (0.7,0.1) (0.9,0.2)
    assert OPS["rot90"].text(text) == "ship [0.600,0.300,0.700,0.100,0.900,0.200,0.800,0.400]"
    # corners put in order before rounding: the rounded first corner is no longer the nearest to the origin
    # (0.684^2 + 0.464^2 > 0.699^2 + 0.441^2); the box is read as written, moved and written in the paper's order
    rounded = "[0.684,0.464,0.699,0.441,0.744,0.471,0.729,0.494]"
    assert OPS["vflip"].text(rounded) == "[0.684,0.536,0.729,0.506,0.744,0.529,0.699,0.559]"
    for turn in OPS.values():
        moved = turn.box(OBB((0.2, 0.1, 0.4, 0.2, 0.3, 0.4, 0.1, 0.3)))
        assert isinstance(moved, OBB) and moved == order_obb(moved)
        assert moved.area == pytest.approx(0.05)


def test_text_keeps_its_decimals_and_refuses_what_it_cannot_rewrite_exactly() -> None:
    hflip = OPS["hflip"]
    answer = "car [0.10,0.20,0.30,0.50]; person [0.500,0.500,0.600,0.700]"
    assert hflip.text(answer) == "car [0.70,0.20,0.90,0.50]; person [0.400,0.500,0.500,0.700]"
    assert hflip.text("Detect every car. Answer with boxes.") == "Detect every car. Answer with boxes."
    for bad in ("car [0.1,0.20,0.3,0.5]", "car (0.1,0.2,0.3,0.4)", "car [0.1,0.2", "[0.5]", "car [0.3,0.2,0.1,0.5]"):
        assert hflip.text(bad) is None, bad


@pytest.mark.parametrize("op", list(OPS))
def test_a_moved_pixel_holds_the_original_at_the_mapped_place(op: str) -> None:
    turn = OPS[op]
    image = np.random.default_rng(0).random((3, 6, 6)).astype(np.float32)  # [C, H, W]
    moved = turn.array(image)
    assert moved.flags.c_contiguous and moved.shape == image.shape
    for row in range(6):
        for col in range(6):
            x, y = turn.point(col + 0.5, row + 0.5, 6, 6)  # the pixel's centre
            assert np.array_equal(moved[:, int(y), int(x)], image[:, row, col]), (row, col)


def test_masks_and_prompts_by_hand() -> None:
    grid = np.zeros((3, 3), bool)
    grid[0, 1] = True  # centre (1.5, 0.5)
    expected = {"hflip": (0, 1), "vflip": (2, 1), "rot90": (1, 2), "rot180": (2, 1), "rot270": (1, 0)}  # (row, col)
    for op, (row, col) in expected.items():
        moved = OPS[op].mask(RleMask.from_array(grid)).to_array()
        assert moved.sum() == 1 and moved[row, col], op
    hflip, rot90 = OPS["hflip"], OPS["rot90"]
    assert hflip.prompt(VisualPrompt.point(10, 30), 100, 100).points == ((90, 30),)
    assert rot90.prompt(VisualPrompt.point(10, 30), 100, 100).points == ((70, 10),)
    assert hflip.prompt(VisualPrompt.box(HBB(10, 20, 30, 50)), 100, 100).points == ((70, 20), (90, 50))
    assert rot90.prompt(VisualPrompt.box(HBB(10, 20, 30, 50)), 100, 100).points == ((50, 10), (80, 30))
    polygon = hflip.prompt(VisualPrompt.polygon([(0, 0), (40, 0), (0, 20)]), 100, 100)
    assert polygon.points == ((100, 0), (60, 0), (100, 20))
    scribble = rot90.prompt(VisualPrompt.scribble([[(10, 30), (20, 30)], [(5, 5)]]), 100, 100)
    assert scribble.strokes == (((70, 10), (70, 20)), ((95, 5),))
    obb = rot90.prompt(VisualPrompt.obb(OBB((20, 10, 40, 20, 30, 40, 10, 30))), 100, 100)
    assert obb.points == ((60, 30), (70, 10), (90, 20), (80, 40))  # in the paper's order (see the OBB test)
    mask = hflip.prompt(VisualPrompt.from_mask(RleMask.from_array(grid)), 3, 3)
    assert mask.mask is not None and mask.mask.to_array()[0, 1]


def _drawn(size: int, corners: list[tuple[float, float]]) -> np.ndarray:
    """A [size, size] raster with the polygon of normalised ``corners`` filled."""
    im = Image.new("L", (size, size))
    ImageDraw.Draw(im).polygon([(x * size, y * size) for x, y in corners], fill=1)
    return np.asarray(im, dtype=bool)


@pytest.mark.parametrize("op", list(OPS))
def test_a_box_drawn_on_the_image_stays_on_the_object(op: str) -> None:
    turn, size = OPS[op], 64
    image = np.zeros((size, size), bool)
    image[8:24, 16:48] = True  # the object: rows 8-23, columns 16-47
    box = HBB(16 / size, 8 / size, 48 / size, 24 / size)
    moved_image, moved = turn.array(image), turn.box(box)
    assert isinstance(moved, HBB)
    cols = slice(round(moved.x1 * size), round(moved.x2 * size))
    rows = slice(round(moved.y1 * size), round(moved.y2 * size))
    assert moved_image[rows, cols].all() and moved_image[rows, cols].sum() == image.sum()  # exactly the object
    tilted = OBB((0.5, 0.1, 0.8, 0.4, 0.5, 0.7, 0.2, 0.4))
    moved_obb = turn.box(tilted)
    assert isinstance(moved_obb, OBB)
    a, b = turn.array(_drawn(size, tilted.corners())), _drawn(size, moved_obb.corners())
    assert (a & b).sum() / (a | b).sum() > 0.9  # the same diamond, up to the rasteriser's edge rule


@pytest.mark.parametrize("op", list(OPS))
def test_on_an_evenly_padded_rectangle_everything_moves_with_the_square(op: str) -> None:
    """A 12 x 8 image sits in a 12 x 12 square with 2 rows of padding above and below: prompts and masks drawn from
    the image's pixels, and boxes normalised in the square, all land where the moved square has them."""
    turn, (w, h), size = OPS[op], (12, 8), 12
    moved_w, moved_h = (h, w) if turn.transpose else (w, h)
    prompt = VisualPrompt.box(HBB(2, 1, 7, 5))
    before = rasterise_prompts([prompt], w, h, size)
    assert np.array_equal(turn.array(before), rasterise_prompts([turn.prompt(prompt, w, h)], moved_w, moved_h, size))
    grid = np.zeros((h, w), bool)
    grid[1:3, 2:9] = True
    mask = RleMask.from_array(grid)
    assert np.array_equal(turn.array(rasterise_mask(mask, size)), rasterise_mask(turn.mask(mask), size))
    square = np.zeros((size, size), bool)
    square[1 + 2 : 5 + 2, 2:7] = True  # the object at image rows 1-4, columns 2-6, moved down by the padding
    moved = turn.box(normalize(HBB(2, 1, 7, 5), w, h))
    assert isinstance(moved, HBB)
    rows, cols = (
        slice(round(moved.y1 * size), round(moved.y2 * size)),
        slice(round(moved.x1 * size), round(moved.x2 * size)),
    )
    assert turn.array(square)[rows, cols].all() and turn.array(square)[rows, cols].sum() == square.sum()
    conv = _conversation("detect every car", "car " + HBB_TEXT["hflip"], ImageRef("x.jpg", w, h), prompts=(prompt,))
    moved_conv = turn.conversation(conv)
    assert moved_conv is not None and moved_conv.image is not None
    assert (moved_conv.image.width, moved_conv.image.height) == (moved_w, moved_h)


def _conversation(question: str, answer: str, image: ImageRef = SQUARE, **kw: object) -> Conversation:
    return Conversation("c-" + question, (Message.user(question, image), Message.assistant(answer)), **kw)  # type: ignore[arg-type]


def test_the_safety_rule() -> None:
    assert orientation_words("The plane at the Upper-left, north of the runway") == ["upper", "left", "north"]
    assert orientation_words("Detect every storage tank; count the cars") == []
    assert ineligible_reason(_conversation("Detect every car.", "car [0.100,0.200,0.300,0.500]")) is None
    assert ineligible_reason(_conversation("Where is the car on the left?", "[0.100,0.200,0.300,0.500]")) == (
        "orientation words"
    )
    assert ineligible_reason(_conversation("Is there a road at the top of the image?", "yes")) == "orientation words"
    hbb = "Detect all objects shown in the RS image and describe using horizontal bounding boxes"
    assert ineligible_reason(_conversation(hbb, "ship [0.338,0.048,0.415,0.083]")) is None
    lying = _conversation("Describe <region1>.", "A ship lying horizontally.")
    assert ineligible_reason(lying) == "orientation words"
    wide, odd = ImageRef(path="x.jpg", width=640, height=512), ImageRef(path="x.jpg", width=641, height=512)
    assert ineligible_reason(_conversation("Detect every car.", "car [0.1,0.2,0.3,0.5]", wide)) is None
    assert ineligible_reason(_conversation("Detect every car.", "car [0.1,0.2,0.3,0.5]", odd)) == "uneven padding"
    assert ineligible_reason(_conversation("Detect every car.", "car [0.1,0.20,0.3,0.5]")) == "inexact boxes"
    assert ineligible_reason(_conversation("What is this?", "grass", views="grid:2")) == "several views"
    assert ineligible_reason(_conversation("What is this?", "grass"), default_views="grid:2") == "several views"
    counts = eligibility([_conversation("What is this?", "grass"), _conversation("Left or right?", "left")])
    assert counts == {"eligible": 1, "orientation words": 1}


def test_the_choice_is_a_function_of_seed_epoch_and_index() -> None:
    aug = Augmentation(("hflip", "vflip", "rot90"), 0.5, seed=3)
    draws = [aug.choose(e, i) for e in range(3) for i in range(40)]
    assert draws == [Augmentation(("hflip", "vflip", "rot90"), 0.5, seed=3).choose(e, i) for e in range(3) for i in range(40)]  # fmt: skip
    assert draws != [Augmentation(("hflip", "vflip", "rot90"), 0.5, seed=4).choose(e, i) for e in range(3) for i in range(40)]  # fmt: skip
    assert len(set(draws)) == 8  # all eight symmetries of the square occur
    assert aug.choose(0, 1) == aug.choose(0, 1) and [aug.choose(0, i) for i in range(20)] != [aug.choose(1, i) for i in range(20)]  # fmt: skip
    assert all(Augmentation(("hflip",), 1.0, 0).choose(0, i) == OPS["hflip"] for i in range(10))
    assert all(Augmentation(("rot90",), 0.0, 0).choose(0, i).is_identity for i in range(10))
    with pytest.raises(ValueError, match="unknown augmentation"):
        Augmentation(("shear",), 0.5, 0)


def test_config_refuses_unknown_ops_and_probabilities(tmp_path: Path) -> None:
    assert TrainConfig(out_dir=str(tmp_path)).augment == []
    with pytest.raises(ConfigError, match=r"TrainConfig\.augment must list distinct ops"):
        TrainConfig(out_dir=str(tmp_path), augment=["hflip", "shear"])
    with pytest.raises(ConfigError, match=r"TrainConfig\.augment_prob"):
        TrainConfig(out_dir=str(tmp_path), augment=["hflip"], augment_prob=1.5)


def _template() -> ChatTemplate:
    text = "USER: detect every car on the left ASSISTANT: car [0.100,0.200,0.300,0.500] 0123456789,.[]"
    return ChatTemplate(train_tokenizer([text] * 20, vocab_size=300), num_image_tokens=4, max_length=96)


def test_dataset_moves_pixels_and_boxes_together_and_leaves_ineligible_samples_alone(data_root: Path) -> None:
    template = _template()
    eligible = _conversation("detect every car", "car [0.100,0.200,0.300,0.500]")
    oriented = _conversation("detect every car on the left", "car [0.100,0.200,0.300,0.500]")
    plain = ConversationDataset([eligible, oriented], template, 32, data_root)
    flipped = ConversationDataset([eligible, oriented], template, 32, data_root, Augmentation(("hflip",), 1.0, 0))
    assert flipped.augment_counts == {"eligible": 1, "orientation words": 1}
    for epoch in range(3):
        flipped.set_epoch(epoch)
        item, reference = flipped[0], plain[0]
        assert np.array_equal(item["pixel_values"].numpy(), reference["pixel_values"].numpy()[:, :, ::-1])
        expected = template.encode(_conversation("detect every car", "car [0.700,0.200,0.900,0.500]"))
        assert item["input_ids"].tolist() == expected.input_ids and item["labels"].tolist() == expected.labels
        untouched, reference = flipped[1], plain[1]
        assert all(np.array_equal(untouched[k].numpy(), reference[k].numpy()) for k in reference)


def test_two_datasets_with_one_seed_give_the_same_samples(data_root: Path) -> None:
    template = _template()
    convs = [_conversation(f"detect every car {i}", "car [0.100,0.200,0.300,0.500]") for i in range(6)]
    augment = Augmentation(("hflip", "vflip", "rot90"), 0.5, seed=7)
    a, b = (ConversationDataset(convs, template, 16, data_root, augment) for _ in range(2))
    other = ConversationDataset(convs, template, 16, data_root, Augmentation(augment.ops, 0.5, seed=8))
    differs = False
    for epoch in (0, 1):
        for ds in (a, b, other):
            ds.set_epoch(epoch)
        for i in range(6):
            x, y, z = a[i], b[i], other[i]
            assert all(np.array_equal(x[k].numpy(), y[k].numpy()) for k in x)
            differs |= x["input_ids"].tolist() != z["input_ids"].tolist()
    assert differs


def test_dataset_moves_prompt_maps_and_mask_targets_with_the_pixels(tmp_path: Path) -> None:
    """An EarthGPT-X conversation on an 80 x 60 image (evenly padded): turned, its prompt maps, mask targets and
    pixels are the turned maps, targets and pixels of the unmoved sample."""
    rgb = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "scene.png")
    tok = train_tokenizer(["USER: what is <region1>? ASSISTANT: a ship <seg> car"] * 20, vocab_size=300)
    template = ChatTemplate(tok, num_image_tokens=4, max_length=256)
    grid = np.zeros((60, 80), bool)
    grid[10:40, 5:30] = True
    conv = Conversation(
        "x0",
        (Message.user("what is <region1>?", ImageRef("scene.png", 80, 60)), Message.assistant("a ship <seg>")),
        prompts=(VisualPrompt.box(HBB(5, 10, 30, 40)),),
        masks=(RleMask.from_array(grid),),
    )
    plain = ConversationDataset([conv], template, 32, tmp_path)[0]
    turned = ConversationDataset([conv], template, 32, tmp_path, Augmentation(("hflip", "rot90"), 1.0, seed=1))
    seen = set()
    for epoch in range(6):
        turned.set_epoch(epoch)
        turn, item = turned.transform(conv, 0), turned[0]
        seen.add(turn)
        for key in ("pixel_values", "prompt_maps", "mask_targets"):
            np.testing.assert_allclose(item[key].numpy(), turn.array(plain[key].numpy()), atol=1e-6, err_msg=key)
        assert float(item["mask_targets"].sum()) == float(plain["mask_targets"].sum()) > 0
    assert len(seen) > 1 and all(not t.is_identity for t in seen)
