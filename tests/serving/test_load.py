"""A bounded load test on loopback: 200 requests from 32 concurrent openai clients within a time cap; no 5xx,
greedy answers equal to the one-by-one answers, and bounded memory."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openai
from PIL import Image

from tests.serving.harness import data_url, file_url, image_message

REQUESTS, CLIENTS, MAX_TOKENS = 200, 32, 4
TIME_CAP_S = 90.0

RSS_LIMIT_MB = 150.0
"""Growth allowed over the 200 requests after a warm-up round. Each request carries a 512 x 512 PNG (~0.8 MB decoded,
~0.3 MB model input, ~1 MB of base64 body): keeping them would grow the process by ~400 MB, while what the server
holds at once is bounded by the 32 clients in flight (~70 MB) plus allocator slack."""


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _noise_png(seed: int) -> bytes:
    rgb = np.random.default_rng(seed).integers(0, 255, (512, 512, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def test_200_requests_from_32_clients(client: openai.OpenAI, data_root: Path) -> None:
    questions = ["what is here?", "how many ships?"]
    images = [
        file_url(data_root / "rsscn7" / "aGrass" / "a001.jpg", "image/jpeg"),
        file_url(data_root / "rsscn7" / "cIndustry" / "c001.jpg", "image/jpeg"),
        data_url(_noise_png(0)),
        data_url(_noise_png(1)),
    ]
    kinds = [(q, im) for q in questions for im in range(len(images))]

    def ask(i: int) -> tuple[int, str]:
        q, im = kinds[i % len(kinds)]
        resp = client.chat.completions.create(
            model="earthgpt", messages=image_message(q, images[im]), max_tokens=MAX_TOKENS, temperature=0
        )
        return i % len(kinds), resp.choices[0].message.content or ""

    one_by_one = dict(ask(k) for k in range(len(kinds)))  # sequential: batches of one
    with ThreadPoolExecutor(CLIENTS) as pool:  # warm-up round: allocator and thread pools at their working size
        list(pool.map(ask, range(2 * CLIENTS)))
    before = _rss_mb()
    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(ask, range(REQUESTS)))  # any 4xx/5xx raises here
    elapsed = time.perf_counter() - began
    growth = _rss_mb() - before
    print(f"load: {REQUESTS} requests in {elapsed:.1f} s, RSS {before:.0f} MB -> +{growth:.0f} MB")
    assert len(answers) == REQUESTS
    assert all(text == one_by_one[k] for k, text in answers), "batched greedy answers differ from one-by-one"
    assert elapsed < TIME_CAP_S, f"{REQUESTS} requests took {elapsed:.1f} s"
    assert growth < RSS_LIMIT_MB, f"RSS grew by {growth:.0f} MB over {REQUESTS} requests"
