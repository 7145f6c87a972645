"""Peak memory and speed of a whole-scene run: a generated 2k and 16k px GeoTIFF, each in a fresh process.

Each scene is a tiled, deflate-compressed uint16 GeoTIFF (one band, EPSG:32633, bright 12 px targets on a
gradient). The run slices it into 512 px tiles at overlap 0.2, stretches every tile with the scene's percentiles,
answers it with a stub model (an empty answer: what is measured is the scene pipeline, not a network; pass
``--model DIR`` to time a real model too), journals it and merges. Printed: tiles, seconds, tiles/s and peak
resident memory (ru_maxrss of the child process), and the 16k / 2k ratio of the peaks (goal <= 1.2; the pixels
grow 64x). ``--task segment`` answers each tile with a mask of its saturated (255) pixels instead, so the journal
holds RLE masks and the merge unions the outlines of every tile across the overlaps. Run from the repository root:
``python bench/scene.py [--task segment] [--model DIR] [--tile 512]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

SIDES = {"2k": 2048, "16k": 16384}


def make_scene(path: Path, side: int) -> None:
    """A ``side`` x ``side`` uint16 GeoTIFF written 256 rows at a time (memory: one strip of rows)."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    profile = {"driver": "GTiff", "width": side, "height": side, "count": 1, "dtype": "uint16", "tiled": True,
               "blockxsize": 256, "blockysize": 256, "compress": "deflate", "crs": "EPSG:32633",
               "transform": from_origin(500000.0, 4000000.0, 10.0, 10.0)}  # fmt: skip
    cols = np.arange(side, dtype=np.uint16)
    with rasterio.open(path, "w", **profile) as ds:
        for y in range(0, side, 256):
            rows = np.broadcast_to((cols // 16 + y // 16) % 2000 + 1000, (256, side)).copy()  # [256, side]
            rows[100:112, 50::700] = 30000  # a target every 700 px along the strip's row 100
            ds.write(rows[None], window=Window(0, y, side, 256))


class EmptyAnswers:
    """A model that answers every tile with no box: the cost left is the scene pipeline's."""

    def __init__(self, side: int) -> None:
        self.side = side

    def answer(self, tiles: Sequence[np.ndarray], question: str) -> list[object]:
        from earthgpt.inference.scene import Answer

        return [Answer("") for _ in tiles]


class SaturatedMasks(EmptyAnswers):
    """A model that segments every saturated (255) pixel of a tile as one ``<seg>`` mask."""

    def answer(self, tiles: Sequence[np.ndarray], question: str) -> list[object]:
        from earthgpt.geometry.prompts import RleMask
        from earthgpt.inference.scene import Answer

        return [Answer("Sure, <seg>.", masks=(RleMask.from_array(t[:, :, 0] == 255),)) for t in tiles]


def child(scene: Path, out: Path, tile: int, model_dir: str | None, task: str) -> None:
    """Run one scene and print its figures as JSON (the peak RSS is this process's)."""
    from earthgpt.inference.scene import PredictorTiles, SceneJob, TileModel, run_scene

    segment = task == "segment"
    stub = SaturatedMasks(tile) if segment else EmptyAnswers(tile)
    model: TileModel = PredictorTiles(model_dir, max_new_tokens=16, masks=segment) if model_dir else stub  # type: ignore[assignment]
    job = SceneJob(scene=scene, out=out, tile=tile, fresh=True, task=task, classes=("target",) if segment else ())  # type: ignore[arg-type]
    began = time.perf_counter()
    result = run_scene(job, model, progress=False)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"tiles": result.tiles, "seconds": seconds, "peak_mb": peak_mb,
                      "objects": len(result.boxes) + len(result.regions)}))  # fmt: skip


def _run_child(scene: Path, out: Path, tile: int, model_dir: str | None, task: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(scene), "--out", str(out), "--tile", str(tile), "--task", task]
    if model_dir:
        cmd += ["--model", model_dir]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--model", default=None, help="a model directory to time instead of the stub")
    parser.add_argument("--task", choices=("detect", "segment"), default="detect")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), Path(args.out), args.tile, args.model, args.task)
        return
    peaks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, side in SIDES.items():
            scene = Path(tmp) / f"scene_{name}.tif"
            make_scene(scene, side)
            r = _run_child(scene, Path(tmp) / f"{name}.geojson", args.tile, args.model, args.task)
            peaks[name] = r["peak_mb"]
            print(f"{name:>4} {side} px ({scene.stat().st_size / 1e6:.2f} MB file): {r['tiles']:.0f} tiles in "
                  f"{r['seconds']:.1f} s = {r['tiles'] / r['seconds']:.1f} tiles/s, {r['objects']:.0f} objects, "
                  f"peak RSS {r['peak_mb']:.0f} MB")  # fmt: skip
    print(f"peak RSS 16k / 2k: {peaks['16k'] / peaks['2k']:.2f} (goal <= 1.2; pixels x64)")


if __name__ == "__main__":
    main()
