"""`make demo`'s job, at two training steps: builds, trains, answers, draws, and reuses its model on a second run."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from earthgpt.demo import run_demo


def test_demo_builds_trains_chats_and_reuses_its_model(data_root: Path, tmp_path: Path) -> None:
    first = list(run_demo(data_root, tmp_path, steps=2))
    assert first[0].startswith("corpus: 952 conversations")  # RSSCN7 210 + HIT-UAV 742 frames with objects
    assert first[1].startswith("model: trained 2 steps")
    assert first[2].startswith("held-out RSSCN7 top-1: ") and "on 32 test images" in first[2]
    assert "(truth: " in first[3] and "USER: What is the category of this RS image?" in first[3]
    assert "USER: Detect all objects shown in the RS image and describe using horizontal bounding boxes" in first[4]
    with Image.open(tmp_path / "detection.png") as im:
        assert im.size == (640, 512)  # drawn on the HIT-UAV frame itself
    second = list(run_demo(data_root, tmp_path, steps=2))
    assert second[1] == f"model: reusing {tmp_path / 'model'}"
