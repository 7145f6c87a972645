"""Drawing boxes on images: the outline pixels take the label's colour, the rest of the image is untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from earthgpt.geometry import HBB, OBB, LabeledBox
from earthgpt.visualize import colour, draw_boxes

BLACK = np.zeros((80, 80, 3), np.uint8)


def _is(im: Image.Image, label: str) -> np.ndarray:
    """[H, W] bool: the pixels painted in ``label``'s colour."""
    return (np.asarray(im) == colour(label)).all(axis=-1)


def test_hbb_outline_takes_the_label_colour(tmp_path: Path) -> None:
    im = draw_boxes(BLACK, [LabeledBox("car", HBB(10, 30, 60, 60))], tmp_path / "out" / "car.png")
    painted = _is(im, "car")
    for y, x in [(45, 10), (30, 35), (60, 35), (45, 59)]:  # left, top, bottom and right edges
        assert painted[y, x], (y, x)
    assert not painted[45, 35] and not painted[70, 70] and not painted[45, 5]  # inside, outside: untouched
    assert np.asarray(im)[:30].any()  # the label is written above the box (anti-aliased: not one colour)
    assert colour("car") != colour("ship") and colour("car") == colour("car")
    with Image.open(tmp_path / "out" / "car.png") as saved:
        assert np.array_equal(np.asarray(saved), np.asarray(im))
    assert not BLACK.any()  # the input array is not drawn on


def test_obb_outline_follows_the_corners_and_zoom_scales_it() -> None:
    diamond = OBB((40, 10, 70, 40, 40, 70, 10, 40))
    painted = _is(draw_boxes(BLACK, [LabeledBox("", diamond)]), "")  # empty label: no text
    for y, x in [(25, 25), (25, 55), (55, 55), (55, 25)]:  # the middles of the four edges
        assert painted[y - 1 : y + 2, x - 1 : x + 2].any(), (y, x)
    assert not painted[40, 40]  # the centre
    assert not painted[12, 12] and not painted[68, 68]  # the HBB's corners lie outside a diamond
    zoomed = draw_boxes(BLACK, [LabeledBox("", diamond)], zoom=2.0)
    assert zoomed.size == (160, 160)
    big = _is(zoomed, "")
    assert big[49:52, 49:52].any() and not painted[49:52, 49:52].any() and not big[80, 80]
