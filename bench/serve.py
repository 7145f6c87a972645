"""Requests/s of ``earthgpt serve`` at 1, 8 and 32 concurrent clients, against one-by-one (a single client).

Starts the real app (uvicorn on a free loopback port, in this process) over a random-weight tiny model, and sends
``--requests`` greedy chat completions with a real-size image (a data URL) through the openai client from N threads.
The client counts run in turn (1, 8, 32, 1, 8, 32, ...) ``--repeats`` times; medians with min-max are printed, and
each speed-up is taken round by round against the one-client run of the same round. Greedy answers are checked equal
across all client counts. Run from the repository root: ``python bench/serve.py [--requests 32] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import base64
import io
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import openai
import torch
import uvicorn
from _timing import Spread, interleaved, ratio
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import write_tiny_model

from earthgpt.inference.predictor import Predictor
from earthgpt.serving import ServeSettings, create_app

CLIENTS = (1, 8, 32)


def _serve(predictor: Predictor, max_batch: int) -> tuple[uvicorn.Server, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(create_app(predictor, ServeSettings(max_batch=max_batch)), log_level="error")
    )
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


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
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    predictor = Predictor.load(write_tiny_model(Path(tempfile.mkdtemp())), max_new_tokens=args.max_tokens)
    server, base = _serve(predictor, args.max_batch)
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
    server.should_exit = True
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
