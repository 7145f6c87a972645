"""Errors a person sees, through the `earthgpt` command: one line naming the file and the fix, exit code 2."""

from __future__ import annotations

import logging
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from earthgpt.cli import main


def _png_header(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width`` x ``height`` (a few hundred bytes on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def _bad_images(tmp: Path) -> dict[str, Path]:
    text = tmp / "notes.jpg"
    text.write_text("this is not a picture\n", encoding="utf-8")
    empty = tmp / "empty.png"
    empty.write_bytes(b"")
    huge = tmp / "huge.png"
    _png_header(huge, 60000, 60000)
    good = tmp / "good.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(good)
    truncated = tmp / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return {"text": text, "empty": empty, "missing": tmp / "absent.jpg", "huge": huge, "truncated": truncated}


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("case", ["text", "empty", "missing", "huge", "truncated"])
def test_chat_on_a_bad_image_is_one_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = _bad_images(tmp_path)[case]
    assert main(["chat", "--model", str(tmp_path / "model"), "--image", str(image), "what is this?"]) == 2
    err = _err(capsys)
    assert str(image) in err and "pass a readable JPEG, PNG or TIFF/GeoTIFF file to --image" in err


def _chat(tiny_model_dir: Path, question: str = "what is here?") -> int:
    return main(["chat", "--model", str(tiny_model_dir), "--image", str(tiny_model_dir.parent / "scene.png"), question])


def test_truncated_weights_name_the_file(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = tiny_model_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])
    assert _chat(tiny_model_dir) == 2
    err = _err(capsys)
    assert str(weights) in err and "truncated or corrupt" in err


@pytest.mark.parametrize("name", ["tokenizer.json", "tokenizer_config.json"])
def test_missing_tokenizer_file_is_named(name: str, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tiny_model_dir / name).unlink()
    assert _chat(tiny_model_dir) == 2
    err = _err(capsys)
    assert f"{tiny_model_dir / name} is missing" in err and "sentencepiece" not in err.replace(
        "sentencepiece tokenizer.model", ""
    )


def test_a_prompt_beyond_the_positions_is_refused(tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _chat(tiny_model_dir, "where " * 20000) == 2  # 120k characters; the tiny model has 2048 positions
    err = _err(capsys)
    assert "more than the model's 2048 positions" in err and "--max-new-tokens" in err


def test_a_data_root_that_is_a_file_or_a_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file_root = tmp_path / "root.txt"
    file_root.write_text("x", encoding="utf-8")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    config = tmp_path / "build.yaml"
    config.write_text("sources:\n  - name: rsscn7\n    root: rsscn7\n", encoding="utf-8")
    for root, words in ((file_root, "is a file, not a folder"), (loop, "is a symlink loop")):
        build = ["data", "build", "--config", str(config), "--data", str(root), "--out", str(tmp_path / "o")]
        assert main(build) == 2
        assert words in _err(capsys)
        assert main(["eval", "--model", str(tmp_path), "--tasks", "rsscn7", "--data", str(root)]) == 2
        assert words in _err(capsys)


def test_resume_falls_back_past_a_damaged_checkpoint(
    data_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "build.yaml"
    config.write_text("sources:\n  - name: rsscn7\n    root: rsscn7\n", encoding="utf-8")
    build, out = tmp_path / "data", tmp_path / "model"
    assert (
        main(["data", "build", "--config", str(config), "--data", str(data_root), "--out", str(build), "--quiet"]) == 0
    )
    train = ["train", "--build", str(build), "--out", str(out), "--steps", "6", "--batch-size", "2"]
    train += ["--save-every", "2", "--keep-last", "5", "--no-progress-bar"]
    with caplog.at_level(logging.WARNING):
        assert main([*train, "--resume", "--stop-at-step", "4"]) == 0
    assert "resume: no checkpoint in" in caplog.text and "starting the run from step 0" in caplog.text
    newest = out / "run" / "checkpoints" / "step-00000004"
    weights = newest / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # a crash mid-copy
    caplog.clear()
    capsys.readouterr()
    with caplog.at_level(logging.INFO):
        assert main([*train, "--resume"]) == 0
    assert f"checkpoint {newest} is damaged" in caplog.text and "falling back to the one before it" in caplog.text
    assert "resumed from" in caplog.text and "step-00000002 at step 2" in caplog.text
    assert "trained 4 steps" in capsys.readouterr().out
