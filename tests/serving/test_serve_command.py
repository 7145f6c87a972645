"""`earthgpt serve` as a user runs it: a subprocess on a free loopback port answering the openai client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.serving.harness import file_url, image_message

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_earthgpt_serve_answers_the_openai_client(model_dir: Path, data_root: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "earthgpt.cli", "serve", "--model", str(model_dir), "--port", str(port),
           "--model-name", "tiny", "--max-tokens", "4", "--max-queue", "8"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "earthgpt serve did not come up"
            time.sleep(0.3)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        image = file_url(data_root / "rsscn7" / "aGrass" / "a001.jpg", "image/jpeg")
        resp = client.chat.completions.create(model="tiny", messages=image_message("what is here?", image))
        assert resp.usage is not None and 1 <= resp.usage.completion_tokens <= 4  # --max-tokens is the default
        assert [m.id for m in client.models.list().data] == ["tiny"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_bad_flag_is_one_line_and_exit_2(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from earthgpt.cli import main

    assert main(["serve", "--model", str(model_dir), "--media-root", "/no/such/dir"]) == 2
    assert "--media-root /no/such/dir is not a folder" in capsys.readouterr().err
    assert main(["serve", "--model", str(model_dir), "--max-queue", "0"]) == 2
    assert "max_queue=0" in capsys.readouterr().err
