"""The API through the real openai client against a server on 127.0.0.1: plain and streamed answers on real
images (data URLs and the media root), the earthgpt extension field, /v1/models and /health."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from earthgpt.data.conversation import Message
from earthgpt.inference.predictor import INPUT_IMAGE, Predictor
from earthgpt.serving.images import NO_CRS_WARNING
from tests.serving.harness import file_url, image_message

QUESTION = "what is here?"


@pytest.fixture(scope="module")
def jpeg(data_root: Path) -> Path:
    return data_root / "rsscn7" / "aGrass" / "a001.jpg"


@pytest.fixture(scope="module")
def geotiff(data_root: Path) -> Path:
    return data_root / "sen2ships" / "sen2ships" / "honolulu" / "honolulu_rgb.tiff"


def _direct(predictor: Predictor, image: Path, question: str, max_tokens: int) -> str:
    """The same question asked of the Predictor one by one, without the server."""
    dialogue = [Message.user(question, INPUT_IMAGE)]
    return predictor.generate([predictor.pixels(image)], [dialogue], max_new_tokens=max_tokens, temperature=0.0)[0].text


def test_plain_answer_equals_the_predictor_one_by_one(client: openai.OpenAI, predictor: Predictor, jpeg: Path) -> None:
    resp = client.chat.completions.create(
        model="earthgpt", messages=image_message(QUESTION, file_url(jpeg, "image/jpeg")), max_tokens=6, temperature=0
    )
    choice = resp.choices[0]
    assert choice.message.content == _direct(predictor, jpeg, QUESTION, 6)
    assert resp.object == "chat.completion" and resp.model == "earthgpt"
    n_image = predictor.model.num_image_tokens
    assert resp.usage is not None and resp.usage.prompt_tokens > n_image
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    assert choice.finish_reason == ("length" if resp.usage.completion_tokens == 6 else "stop")
    extra: dict[str, Any] = choice.message.model_extra["earthgpt"]  # type: ignore[index]
    assert (extra["width"], extra["height"]) == (400, 400) and extra["geojson"] is None


def test_stream_gives_the_same_text_in_chunks_then_finish_and_usage(client: openai.OpenAI, jpeg: Path) -> None:
    messages = image_message(QUESTION, file_url(jpeg, "image/jpeg"))
    plain = client.chat.completions.create(model="earthgpt", messages=messages, max_tokens=6, temperature=0)
    chunks = list(
        client.chat.completions.create(
            model="earthgpt",
            messages=messages,
            max_tokens=6,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    with_choice = [c for c in chunks if c.choices]
    assert with_choice[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in with_choice) == plain.choices[0].message.content
    assert [c.choices[0].finish_reason for c in with_choice][-1] == plain.choices[0].finish_reason
    assert all(c.choices[0].finish_reason is None for c in with_choice[:-1])
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == plain.usage.completion_tokens  # type: ignore[union-attr]


def test_raw_stream_ends_with_done(base_url: str, jpeg: Path) -> None:
    body = {"messages": image_message(QUESTION, file_url(jpeg, "image/jpeg")), "max_tokens": 3, "stream": True}
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]" and all(line.startswith("data: ") for line in lines)


def test_a_bare_string_image_url_and_a_media_root_path(base_url: str, model_dir: Path, jpeg: Path) -> None:
    shutil.copy(jpeg, model_dir.parent / "grass.jpg")
    for url in (file_url(jpeg, "image/jpeg"), "grass.jpg", f"file://{model_dir.parent / 'grass.jpg'}"):
        content = [{"type": "image_url", "image_url": url}, {"type": "text", "text": QUESTION}]
        body = {"messages": [{"role": "user", "content": content}], "max_tokens": 4, "temperature": 0}
        r = httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["earthgpt"]["width"] == 400


def test_a_georeferenced_image_answers_with_geojson_in_its_crs(client: openai.OpenAI, geotiff: Path) -> None:
    resp = client.chat.completions.create(
        model="earthgpt",
        messages=image_message("detect the ships", file_url(geotiff, "image/tiff")),
        max_tokens=4,
        temperature=0,
    )
    extra = resp.choices[0].message.model_extra["earthgpt"]  # type: ignore[index]
    assert extra["crs"] == "EPSG:3857" and extra["warnings"] == []
    assert extra["geojson"]["type"] == "FeatureCollection"
    assert extra["geojson"]["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::3857"
    assert len(extra["geojson"]["features"]) == len(extra["boxes"]) + sum(len(m["polygons"]) for m in extra["masks"])


def test_the_extension_field_reaches_the_predictor_through_extra_body(client: openai.OpenAI, jpeg: Path) -> None:
    """A plain model has no prompt encoder: the Predictor's refusal comes back as a 400 with its message."""
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="earthgpt",
            messages=image_message("what is <region1>?", file_url(jpeg, "image/jpeg")),
            max_tokens=4,
            extra_body={"earthgpt": {"prompts": [{"kind": "box", "points": [[10, 10], [120, 90]]}], "views": ""}},
        )
    assert err.value.status_code == 400
    assert "prompt encoder" in err.value.message


def test_an_unknown_extension_key_is_named(client: openai.OpenAI, jpeg: Path) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="earthgpt",
            messages=image_message(QUESTION, file_url(jpeg, "image/jpeg")),
            extra_body={"earthgpt": {"prompt": []}},
        )
    body: dict[str, Any] = err.value.body  # type: ignore[assignment]
    assert body["param"] == "earthgpt.prompt" and "Extra inputs" in body["message"]


def test_models_and_health(client: openai.OpenAI, base_url: str) -> None:
    assert [m.id for m in client.models.list().data] == ["earthgpt"]
    health = httpx.get(f"{base_url}/health").json()
    assert health["status"] == "ok" and health["waiting"] == 0


def test_a_geotiff_without_crs_answers_in_pixels_with_a_warning(
    client: openai.OpenAI, tmp_path: Path, jpeg: Path
) -> None:
    import numpy as np
    import tifffile
    from PIL import Image

    path = tmp_path / "no_crs.tif"
    tifffile.imwrite(path, np.asarray(Image.open(jpeg))[:120, :90], photometric="rgb")
    resp = client.chat.completions.create(
        model="earthgpt", messages=image_message(QUESTION, file_url(path, "image/tiff")), max_tokens=3
    )
    extra = resp.choices[0].message.model_extra["earthgpt"]  # type: ignore[index]
    assert extra["warnings"] == [NO_CRS_WARNING] and extra["geojson"] is None and extra["crs"] is None
    assert (extra["width"], extra["height"]) == (90, 120)
