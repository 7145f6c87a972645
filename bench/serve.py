"""Requests/s of ``earthgpt serve`` at 1, 8 and 32 concurrent clients, against one-by-one (a single client).

Starts ``earthgpt serve`` (a subprocess on a free loopback port) over a random-weight tiny model, and sends
``--requests`` greedy chat completions with a real-size image (a data URL) through the openai client from N threads.
The client counts run in turn (1, 8, 32, 1, 8, 32, ...) ``--repeats`` times; medians with min-max are printed, and
each speed-up is taken round by round against the one-client run of the same round. Greedy answers are checked equal
across all client counts. Run from the repository root: ``python bench/serve.py [--requests 32] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import openai
from _timing import Spread, interleaved, ratio
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import write_tiny_model

CLIENTS = (1, 8, 32)


def _serve(model_dir: Path, max_batch: int, max_tokens: int, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    """``earthgpt serve`` in its own process (as users run it: the clients here do not share its interpreter)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "earthgpt.cli", "serve", "--model", str(model_dir), "--port", str(port),
           "--max-batch", str(max_batch), "--max-tokens", str(max_tokens)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/v1"
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError("earthgpt serve exited") from None
            time.sleep(0.3)


def _image_url(side: int) -> str:
    rgb = np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=32, help="requests per measurement")
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--image", type=int, default=400, help="side of the JPEG sent with each request")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the server")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    server, base = _serve(write_tiny_model(Path(tempfile.mkdtemp())), args.max_batch, args.max_tokens, args.threads)
    client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=300)
    image = _image_url(args.image)
    questions = ["what is here?", "how many ships?", "describe the scene", "where is the harbour?"]
    answers: dict[int, set[str]] = {}

    def ask(i: int) -> None:
        q = questions[i % len(questions)]
        content = [{"type": "text", "text": q}, {"type": "image_url", "image_url": {"url": image}}]
        resp = client.chat.completions.create(
            model="earthgpt", messages=[{"role": "user", "content": content}], max_tokens=args.max_tokens, temperature=0
        )
        answers.setdefault(i % len(questions), set()).add(resp.choices[0].message.content or "")

    batch_sizes: dict[str, list[float]] = {str(n): [] for n in CLIENTS}

    def run(clients: int) -> None:
        before = httpx.get(f"{base[:-3]}/health").json()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(ask, range(args.requests)))
        after = httpx.get(f"{base[:-3]}/health").json()
        batch_sizes[str(clients)].append(
            (after["requests"] - before["requests"]) / (after["batches"] - before["batches"])
        )

    seconds = interleaved({f"{n}": (lambda n=n: run(n)) for n in CLIENTS}, repeats=args.repeats, warmup=1)
    server.terminate()
    server.wait(timeout=30)
    print(
        f"{args.requests} requests per run, {args.max_tokens} tokens each, a {args.image} px JPEG, max batch "
        f"{args.max_batch}, tiny random model, {args.threads} torch threads; {args.repeats} interleaved rounds, "
        "median (min, max)"
    )
    for n in CLIENTS:
        rps = Spread.of([args.requests / t for t in seconds[str(n)]])
        line = f"{n:>2} client(s): {rps.format('.2f')} requests/s, mean batch {Spread.of(batch_sizes[str(n)]).format('.1f')}"
        if n > 1:
            line += f"; vs one-by-one {ratio(seconds['1'], seconds[str(n)]).format('.2f', 'x')}"
        print(line)
    print(f"greedy answers identical at every concurrency: {all(len(v) == 1 for v in answers.values())}")


if __name__ == "__main__":
    main()
