"""Serving fixtures: one tiny-model Predictor per module and a server over it on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from earthgpt.inference.predictor import Predictor
from tests.conftest import write_tiny_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def predictor(model_dir: Path) -> Predictor:
    return Predictor.load(model_dir, max_new_tokens=16)


@pytest.fixture(scope="module")
def base_url(predictor: Predictor, model_dir: Path) -> Iterator[str]:
    from earthgpt.serving import ServeSettings, create_app
    from tests.serving.harness import running

    settings = ServeSettings(media_root=model_dir.parent, max_body_bytes=4 * 1024 * 1024)
    with running(create_app(predictor, settings)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> object:
    import openai

    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=60)
