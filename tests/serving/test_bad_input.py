"""Bad input gets a clear OpenAI-style 4xx naming the field, and the server still answers afterwards; the limits
(body size, queue length, timeout) refuse with their own codes."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from earthgpt.inference.predictor import Predictor
from earthgpt.serving import ServeSettings, create_app
from tests.serving.harness import data_url, file_url, image_message, running


@pytest.fixture(scope="module")
def jpeg_bytes(data_root: Path) -> bytes:
    return (data_root / "rsscn7" / "aGrass" / "a001.jpg").read_bytes()


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 90, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _claims_size(png: bytes, width: int, height: int) -> bytes:
    """A PNG whose header (with a valid CRC) claims ``width`` x ``height``."""
    body = b"IHDR" + struct.pack(">II", width, height) + png[24:29]
    return png[:12] + body + struct.pack(">I", zlib.crc32(body)) + png[33:]


def _post(base_url: str, body: dict[str, Any] | bytes) -> httpx.Response:
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
    return httpx.post(f"{base_url}/v1/chat/completions", timeout=60, **kwargs)


def _ask(url: str, text: str = "what is here?", **extra: Any) -> dict[str, Any]:
    return {"model": "earthgpt", "messages": image_message(text, url), "max_tokens": 3, **extra}


def _error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err: dict[str, Any] = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    return err


def _still_answers(base_url: str, jpeg_bytes: bytes) -> None:
    assert _post(base_url, _ask(data_url(jpeg_bytes, "image/jpeg"))).status_code == 200


CASES = {
    "non-image upload": (
        lambda j: _ask(data_url(b"hello, this is text\n" * 20, "image/png")),
        400,
        "not a JPEG, PNG or TIFF",
    ),
    "truncated JPEG": (lambda j: _ask(data_url(j[: len(j) // 2], "image/jpeg")), 400, "cannot decode"),
    "60000 x 60000 header": (lambda j: _ask(data_url(_claims_size(_png(8, 8), 60000, 60000))), 413, "60000 x 60000"),
    "prompt outside the image": (
        lambda j: _ask(
            data_url(j, "image/jpeg"),
            "what is <region1>?",
            earthgpt={"prompts": [{"kind": "point", "points": [[900, 20]]}]},
        ),
        400,
        "outside the 400x400 px image",
    ),
    "1 MB text prompt": (lambda j: _ask(data_url(j, "image/jpeg"), "ships? " * 150_000), 400, "--max-text-chars"),
    "prompt over the positions": (lambda j: _ask(data_url(j, "image/jpeg"), "ship " * 4000), 400, "positions"),
    "http URL": (lambda j: _ask("https://example.com/a.png"), 400, "fetches no URLs"),
    "path outside the media root": (lambda j: _ask("../../etc/passwd"), 400, "outside the server's --media-root"),
    "bad base64": (lambda j: _ask("data:image/png;base64,@@@"), 400, "not valid base64"),
    "no image": (lambda j: {"messages": [{"role": "user", "content": "hi"}]}, 400, "add an image_url part"),
    "temperature 5": (lambda j: _ask(data_url(j, "image/jpeg"), temperature=5), 400, "temperature"),
    "two choices": (lambda j: _ask(data_url(j, "image/jpeg"), n=2), 400, "n: "),
    "last turn not the user's": (
        lambda j: {"messages": [*image_message("q", data_url(j, "image/jpeg")), {"role": "assistant", "content": "a"}]},
        400,
        "last message must be the user's",
    ),
    "another model": (lambda j: _ask(data_url(j, "image/jpeg"), model="gpt-4o"), 404, "serves 'earthgpt'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_a_clear_4xx_and_the_server_still_answers(case: str, base_url: str, jpeg_bytes: bytes) -> None:
    make, status, words = CASES[case]
    err = _error(_post(base_url, make(jpeg_bytes)), status)
    assert words in err["message"]
    _still_answers(base_url, jpeg_bytes)


def test_the_error_names_the_field(base_url: str, jpeg_bytes: bytes) -> None:
    err = _error(_post(base_url, _ask(data_url(b"GIF89a....", "image/gif"))), 400)
    assert err["param"] == "messages.0.content.1.image_url"
    part = {"messages": [{"role": "user", "content": [{"type": "image", "url": "x"}]}]}
    err = _error(_post(base_url, part), 400)
    assert err["param"] == "messages.0.content.0" and "'text', 'image_url'" in err["message"]
    err = _error(_post(base_url, {"messages": []}), 400)
    assert err["param"] == "messages" and err["type"] == "invalid_request_error"
    err = _error(_post(base_url, b"{not json"), 400)
    assert "JSON" in err["message"]


def test_a_body_over_the_limit_is_413(base_url: str, jpeg_bytes: bytes) -> None:
    big = data_url(b"\x89PNG\r\n\x1a\n" + bytes(5 * 1024 * 1024))  # the test server allows 4 MiB
    err = _error(_post(base_url, _ask(big)), 413)
    assert "--max-body-bytes" in err["message"]
    _still_answers(base_url, jpeg_bytes)


@pytest.fixture()
def strict_server(predictor: Predictor) -> Iterator[str]:
    """A server with a queue of one waiting request and one request per batch."""
    with running(create_app(predictor, ServeSettings(max_batch=1, max_queue=1, batch_wait_ms=0))) as url:
        yield url


def test_a_full_queue_is_429_with_retry_after_and_the_rest_is_answered(strict_server: str, jpeg_bytes: bytes) -> None:
    body = _ask(data_url(jpeg_bytes, "image/jpeg"), max_tokens=12, temperature=0)
    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(lambda _: _post(strict_server, body), range(12)))
    codes = sorted(r.status_code for r in replies)
    assert set(codes) == {200, 429} and codes.count(200) >= 2
    refused = next(r for r in replies if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1 and _error(refused, 429)["code"] == "queue_full"
    answers = {r.json()["choices"][0]["message"]["content"] for r in replies if r.status_code == 200}
    assert len(answers) == 1  # greedy: every answered request got the same answer
    _still_answers(strict_server, jpeg_bytes)


def test_a_request_over_the_timeout_is_408(predictor: Predictor, jpeg_bytes: bytes) -> None:
    with running(create_app(predictor, ServeSettings(request_timeout_s=0.001))) as url:
        err = _error(_post(url, _ask(data_url(jpeg_bytes, "image/jpeg"), max_tokens=16)), 408)
        assert "--request-timeout" in err["message"]
        assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_a_local_file_without_media_root_is_refused(predictor: Predictor, data_root: Path) -> None:
    with running(create_app(predictor, ServeSettings())) as url:
        path = data_root / "rsscn7" / "aGrass" / "a001.jpg"
        err = _error(_post(url, _ask(str(path))), 400)
        assert "--media-root" in err["message"]
        assert _post(url, _ask(file_url(path, "image/jpeg"))).status_code == 200
