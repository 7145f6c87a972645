"""Builder throughput: records per second building configs/data/demo.yaml with 1 and with 2 workers.

Usage: python bench/build_speed.py [--data DIR] [--config PATH] [--workers 1 2]
The data root comes from --data, else $EARTHGPT_DATA, else ../shared/data beside the repository.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's code, not an install

from earthgpt.data.corpus import build, load_config

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("EARTHGPT_DATA") or str(REPO.parent / "shared" / "data")
    parser.add_argument("--data", default=default_data, help="data root (default: $EARTHGPT_DATA or ../shared/data)")
    parser.add_argument("--config", default=str(REPO / "configs" / "data" / "demo.yaml"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    rates: dict[int, float] = {}
    hashes = set()
    with tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            config = load_config(args.config, data_root=args.data, out_dir=Path(tmp) / f"w{workers}", workers=workers)
            start = time.perf_counter()
            result = build(config, progress=False)
            seconds = time.perf_counter() - start
            rates[workers] = result.records / seconds
            hashes.add(result.sha256)
            print(
                f"workers={workers}: {result.records} records, {result.conversations} conversations, "
                f"{result.units} items in {seconds:.2f} s -> {rates[workers]:.0f} records/s "
                f"({result.conversations / seconds:.0f} conversations/s)"
            )
    first = args.workers[0]
    for workers in args.workers[1:]:
        print(f"speed-up {workers} vs {first} workers: {rates[workers] / rates[first]:.2f}x")
    print("outputs identical across worker counts:", len(hashes) == 1)
    print(f"(CPU cores visible: {os.cpu_count()}; other processes on the machine share them)")


if __name__ == "__main__":
    main()
