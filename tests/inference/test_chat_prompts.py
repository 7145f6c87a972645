"""`earthgpt chat` visual-prompt flags: parsing and checks name the flag, masks come out as RLE and exact polygons,
and a plain model refuses prompts with the clear error while answering plain questions as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earthgpt.cli import main
from earthgpt.geometry.masks import mask_polygons
from earthgpt.geometry.prompts import PromptError, RleMask, VisualPrompt
from earthgpt.inference.chat import check_zoom, masks_record, parse_box, parse_point, read_scribble, validate_prompts
from earthgpt.inference.output import Generation


def test_prompt_flags_parse_and_name_the_flag(tmp_path: Path) -> None:
    assert parse_point("3,4.5") == VisualPrompt.point(3, 4.5)
    assert parse_box("1,2,10,20").points == ((1.0, 2.0), (10.0, 20.0))
    for bad in ("3", "3,x", "nan,2", "1,2,3"):
        with pytest.raises(PromptError, match="--point"):
            parse_point(bad)
    with pytest.raises(PromptError, match="--box '1,2,3': expected x1,y1,x2,y2"):
        parse_box("1,2,3")
    good = tmp_path / "s.json"
    good.write_text(json.dumps([[[1, 1], [5, 6]], [[2, 2]]]), encoding="utf-8")
    assert read_scribble(good).strokes == (((1.0, 1.0), (5.0, 6.0)), ((2.0, 2.0),))
    wrapped = tmp_path / "w.json"
    wrapped.write_text(json.dumps({"strokes": [[[1, 1]]]}), encoding="utf-8")
    assert read_scribble(wrapped).kind == "scribble"
    broken = tmp_path / "b.json"
    broken.write_text("[[1, 2", encoding="utf-8")
    with pytest.raises(PromptError, match=r"--scribble .*b\.json: cannot read it as JSON"):
        read_scribble(broken)
    broken.write_text('{"lines": 3}', encoding="utf-8")
    with pytest.raises(PromptError, match="not a scribble"):
        read_scribble(broken)


def test_prompts_checked_against_the_image_and_zoom_against_the_prompts() -> None:
    prompts = [VisualPrompt.point(3, 4), parse_box("1,1,50,5")]
    with pytest.raises(PromptError, match=r"<region2> \(prompt 2 .*outside the 40x30 px image"):
        validate_prompts(prompts, 40, 30)
    with pytest.raises(PromptError, match=r"<region1>.*empty stroke"):
        validate_prompts([VisualPrompt.scribble([[]])], 40, 30)
    assert check_zoom("grid:2", 0) == "grid:2" and check_zoom("region:1", 1) == "region:1"
    with pytest.raises(ValueError, match="--zoom 'region:2': there is no <region2>; 1 prompt"):
        check_zoom("region:2", 1)
    for bad in ("grid", "grid:1", "zoom", "region:x"):
        with pytest.raises(ValueError, match="--zoom"):
            check_zoom(bad, 1)


def test_mask_polygons_are_exact_outlines() -> None:
    m = np.zeros((6, 8), dtype=bool)
    m[1:3, 1:4] = True  # an L with a tail: rows 1-2 cols 1-3, then col 3 down to row 4
    m[2:5, 3] = True
    m[4, 6:8] = True  # a separate bar on the right edge
    polygons = mask_polygons(m)
    assert sorted(polygons) == sorted([[1, 1, 1, 3, 3, 3, 3, 5, 4, 5, 4, 1], [8, 5, 8, 4, 6, 4, 6, 5]])
    assert mask_polygons(np.zeros((3, 3))) == []
    gen = Generation("x", masks=[RleMask.from_array(m)])
    record = masks_record([Generation("y"), gen])
    assert record == [{"turn": 1, "index": 0, "rle": RleMask.from_array(m).to_dict(), "polygons": polygons}]


def test_a_plain_model_refuses_prompt_flags_and_still_chats(
    tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tiny_model_dir.parent / "scene.png"  # 32 x 32
    base = ["chat", "--model", str(tiny_model_dir), "--image", str(image), "--max-new-tokens", "4"]
    assert main([*base, "--point", "40,3", "what is <region1>?"]) == 2
    assert "outside the 32x32 px image" in capsys.readouterr().err
    assert main([*base, "--box", "1,1,9,9", "--point", "3,3", "what is <region2>?"]) == 2
    assert "no prompt encoder / mask decoder" in capsys.readouterr().err
    assert main([*base, "--zoom", "grid:2", "what is here?"]) == 2
    assert "no prompt encoder / mask decoder" in capsys.readouterr().err
    assert main([*base, "what is here?"]) == 0
    assert "USER: what is here?\nEARTHGPT: " in capsys.readouterr().out
