"""A small data root for builder tests: real HIT-UAV, DOTA and DIOR-RSVG samples plus two fake-format sources."""

from __future__ import annotations

import shutil
from pathlib import Path

from earthgpt.data.corpus.config import BuildConfig, SourceSpec, TilingOptions
from tests.data.fakes import eurosat, ucm_captions

HIT_UAV_TRAIN = 5
HIT_UAV_VAL = 3


def copy_hit_uav(data_root: Path, dest: Path, n_train: int = HIT_UAV_TRAIN, n_val: int = HIT_UAV_VAL) -> Path:
    """The first ``n_train``/``n_val`` images of the real HIT-UAV split lists, in the release layout (CRLF lists)."""
    src, out = data_root / "hit_uav", dest / "hit_uav"
    main = out / "normal_xml" / "ImageSets" / "Main"
    main.mkdir(parents=True)
    for folder in ("normal_xml/Annotations", "normal_xml/JPEGImages", "rotate_xml/Annotations"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("val", n_val)):
        lines = (src / "normal_xml" / "ImageSets" / "Main" / f"{split}.txt").read_text().splitlines()
        stems = sorted(s.strip() for s in lines if s.strip())[:n]
        (main / f"{split}.txt").write_bytes("".join(f"{s}\r\n" for s in stems).encode())
        for s in stems:
            for rel in (f"normal_xml/Annotations/{s}.xml", f"normal_xml/JPEGImages/{s}.jpg"):
                shutil.copyfile(src / rel, out / rel)
            shutil.copyfile(src / f"rotate_xml/Annotations/{s}.xml", out / f"rotate_xml/Annotations/{s}.xml")
    return out


def copy_dota(data_root: Path, dest: Path, stems: tuple[str, ...] = ("P0706", "P1888")) -> Path:
    """The DOTA devkit examples as a DOTA ``train`` split."""
    src, out = data_root / "dota_devkit_example" / "example", dest / "dota"
    for sub, suffix in (("images", ".png"), ("labelTxt", ".txt")):
        (out / "train" / sub).mkdir(parents=True)
        for s in stems:
            shutil.copyfile(src / sub / f"{s}{suffix}", out / "train" / sub / f"{s}{suffix}")
    return out


def copy_dior_rsvg(data_root: Path, dest: Path) -> Path:
    """The real DIOR-RSVG sample with the current release's train and test lists swapped: its two expressions are
    test expressions, which no corpus may hold (earthgpt.data.corpus.splits), so the copy lists them as train."""
    out = dest / "dior_rsvg"
    shutil.copytree(data_root / "dior_rsvg_sample", out)
    lists = out / "DIOR_RSVG"
    train, test = (lists / "train.txt").read_bytes(), (lists / "test.txt").read_bytes()
    (lists / "train.txt").write_bytes(test)
    (lists / "test.txt").write_bytes(train)
    return out


def make_mini_root(data_root: Path, dest: Path) -> dict[str, str]:
    """Write the small data root into ``dest``; returns each source's root relative to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    roots = {
        "hit_uav": copy_hit_uav(data_root, dest),
        "dota": copy_dota(data_root, dest),
        "dior_rsvg": copy_dior_rsvg(data_root, dest),
        "ucm_captions": ucm_captions.write(dest / "ucm_captions"),
        "eurosat": eurosat.write(dest / "eurosat"),
    }
    return {name: p.relative_to(dest).as_posix() for name, p in roots.items()}


def mini_config(data_root: Path, out_dir: Path, roots: dict[str, str], **changes: object) -> BuildConfig:
    """Every task of the builder on the mini root: scenes, captions, grounding, HBB/OBB detection, DOTA tiles."""
    sources = [
        SourceSpec("eurosat", roots["eurosat"], ["all"]),
        SourceSpec("ucm_captions", roots["ucm_captions"], ["train", "val"]),
        SourceSpec("hit_uav", roots["hit_uav"], ["train", "val"], {"kind": "hbb"}, tag="hbb"),
        SourceSpec("hit_uav", roots["hit_uav"], ["train", "val"], {"kind": "obb"}, tag="obb"),
        SourceSpec("dota", roots["dota"], ["train"], {"kind": "obb"}),
        SourceSpec("dior_rsvg", roots["dior_rsvg"], ["train"]),
    ]
    values: dict[str, object] = {
        "sources": sources,
        "data_root": str(data_root),
        "out_dir": str(out_dir),
        "shard_size": 7,
        "tiling": TilingOptions(size=800, overlap=200),
    }
    values.update(changes)
    return BuildConfig(**values)  # type: ignore[arg-type]
