"""The web page in headless Chromium (playwright, Debian's `chromium`): open a real sen2ships GeoTIFF (server-side
preview), draw a box prompt, ask, and check the canvas pixels and the DOM for the drawn prompt and the answer's
boxes and masks, layer toggles and the GeoJSON download. Skips only without a browser (or playwright) or without
the shared data."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from earthgpt.geometry.prompts import RleMask

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

HONOLULU = Path("sen2ships") / "sen2ships" / "honolulu" / "honolulu_rgb.tiff"
PROMPT_COLOR = (0xFF, 0xD4, 0x00)


def chromium_path() -> str | None:
    """Debian's chromium (or $EARTHGPT_CHROMIUM); None when absent."""
    env = os.environ.get("EARTHGPT_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install earthgpt[dev]")
    exe = chromium_path()
    if exe is None:
        named = os.environ.get("EARTHGPT_CHROMIUM")
        where = f"EARTHGPT_CHROMIUM={named} is not a file" if named else "no chromium on PATH"
        pytest.skip(f"no Chromium browser ({where}): apt-get install chromium, or set EARTHGPT_CHROMIUM")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def base_url(predictor: Any) -> Iterator[str]:
    """The real app (tiny random model) on a free loopback port; the page is at ``base_url + "/"``."""
    from earthgpt.serving import ServeSettings, create_app
    from tests.serving.harness import running

    with running(create_app(predictor, ServeSettings())) as url:
        yield url


@pytest.fixture(scope="module")
def honolulu(data_root: Path) -> Path:
    path = data_root / HONOLULU
    if not path.is_file():
        pytest.skip(f"{path} is absent from the shared data")
    return path


# ----- helpers run in the page ----------------------------------------------------------------------------------------

_DROP = """([b64, name]) => {
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], name, { type: "image/jpeg" }));
  return dt;
}"""
_PIXELS = """([x, y, w, h]) => {
  const a = document.getElementById("canvas").getContext("2d").getImageData(x, y, w, h).data;
  let s = "";
  for (let i = 0; i < a.length; i += 8192) s += String.fromCharCode.apply(null, a.subarray(i, i + 8192));
  return btoa(s);
}"""
"""The RGBA bytes of a canvas rectangle, base64 (a JSON list of numbers is a hundred times slower to pass)."""


def pixels(page: Any, rect: tuple[int, int, int, int]) -> np.ndarray:
    """[h, w, 3] canvas pixels of ``rect`` (x, y, w, h in canvas pixels)."""
    x, y, w, h = rect
    data = np.frombuffer(base64.b64decode(page.evaluate(_PIXELS, [x, y, w, h])), dtype=np.uint8)
    return data.reshape(h, w, 4)[:, :, :3]


def near(colour: tuple[int, int, int], px: np.ndarray, tol: int = 40) -> int:
    """How many pixels of ``px`` [..., 3] lie within ``tol`` of ``colour`` on every channel."""
    return int((np.abs(px.astype(int) - np.asarray(colour)) <= tol).all(axis=-1).sum())


def hex_rgb(text: str) -> tuple[int, int, int]:
    return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)


def new_page(browser: Any) -> tuple[Any, list[str]]:
    """A page and the list its uncaught script errors and console errors are collected in (a 4xx answer the page
    shows is no script error)."""
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None
    )
    return page, errors


def open_image(page: Any, path: Path, width: int) -> float:
    """Open ``path`` (``width`` px wide) through the file input; the canvas scale (canvas px per image px)."""
    page.set_input_files("#file-input", str(path))
    page.wait_for_function("document.getElementById('drop-zone').classList.contains('loaded')", timeout=20_000)
    return float(page.evaluate("document.getElementById('canvas').width")) / width


def draw_box(page: Any, x1: int, y1: int, x2: int, y2: int) -> None:
    """Drag on the canvas from (x1, y1) to (x2, y2), in canvas pixels."""
    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + x1, box["y"] + y1)
    page.mouse.down()
    page.mouse.move(box["x"] + x2, box["y"] + y2, steps=6)
    page.mouse.up()


# ----- a page over the routes alone, the chat answer given by the test --------------------------------------------------


def _answer(width: int, height: int) -> dict[str, Any]:
    """A chat completion carrying an HBB, an OBB, a polygon mask and an RLE-only mask, in image pixels."""
    rle = np.zeros((height, width), dtype=bool)
    rle[250:300, 20:80] = True
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "tiny",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": "two ships",
                    "earthgpt": {
                        "boxes": [
                            {"kind": "hbb", "coords": [250, 30, 350, 90], "label": "ship", "score": 0.9},
                            {
                                "kind": "obb",
                                "coords": [300, 150, 380, 170, 370, 210, 290, 190],
                                "label": "harbor",
                                "score": None,
                            },
                        ],
                        "masks": [
                            {"label": "pier", "polygons": [[30, 120, 120, 120, 120, 200, 30, 200]]},
                            {"rle": RleMask.from_array(rle).to_dict()},
                        ],
                        "geojson": {"type": "FeatureCollection", "features": [], "crs": {"type": "name"}},
                    },
                },
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }


def test_page_draws_prompt_boxes_masks_toggles_layers_and_downloads_geojson(
    browser: Any, base_url: str, honolulu: Path, tmp_path: Path
) -> None:
    """The page and the preview are the real server's; the chat answer is the test's (with boxes and masks)."""
    sent: list[dict[str, Any]] = []
    answer = _answer(424, 316)

    def fulfil(route: Any) -> None:
        sent.append(json.loads(route.request.post_data))
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

    page, errors = new_page(browser)
    page.route("**/v1/chat/completions", fulfil)
    page.goto(base_url + "/")
    scale = open_image(page, honolulu, 424)
    assert "424 x 316 px; CRS EPSG:3857" in page.inner_text("#image-info")
    assert "profile uint16" in page.inner_text("#image-info")  # 16-bit: the server's preview is shown

    before = pixels(page, (100, 100, 201, 201))
    draw_box(page, 100, 100, 300, 300)
    assert page.get_attribute("#canvas", "data-prompts") == "1"
    assert page.input_value("#question").strip() == "<region1>"
    after = pixels(page, (100, 100, 201, 201))
    edge = np.zeros(after.shape[:2], dtype=bool)
    edge[:3, :] = edge[-3:, :] = edge[:, :3] = edge[:, -3:] = True
    assert near(PROMPT_COLOR, after[edge]) > 300  # the prompt's outline is drawn ...
    np.testing.assert_array_equal(after[20:-20, 20:-20], before[20:-20, 20:-20])  # ... and nothing inside it

    page.fill("#bands", "3,2,1")
    page.dispatch_event("#bands", "change")
    page.wait_for_function("document.getElementById('image-info').textContent.includes('bands 3,2,1')")
    assert page.get_attribute("#canvas", "data-prompts") == "1"  # a new picture, the same prompts
    assert not np.array_equal(pixels(page, (100, 100, 201, 201)), after)

    page.fill("#question", "What is in <region1>?")
    page.fill("#views", "region:1")
    page.click("#send")
    page.wait_for_selector("#messages li.assistant")
    assert page.inner_text("#messages li.assistant") == "two ships"

    body = sent[0]
    assert body["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/tiff;base64,")
    assert body["messages"][0]["content"][1] == {"type": "text", "text": "What is in <region1>?"}
    assert body["earthgpt"]["views"] == "region:1"
    (prompt,) = body["earthgpt"]["prompts"]
    assert prompt["kind"] == "box"
    np.testing.assert_allclose(prompt["points"], [[100 / scale] * 2, [300 / scale] * 2], atol=1.0 / scale)

    assert page.get_attribute("#canvas", "data-boxes") == "2"
    assert page.get_attribute("#canvas", "data-masks") == "2"
    items = page.locator("#result-list li")
    assert items.count() == 4
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'page.png'}")

    hbb = [round(v * scale) for v in (250, 30, 350, 90)]
    ship_colour = hex_rgb(items.nth(0).get_attribute("data-color"))
    strip = (hbb[0] + 20, hbb[3] - 2, hbb[2] - hbb[0] - 40, 5)  # along the bottom edge, away from the label
    assert near(ship_colour, pixels(page, strip), tol=10) > 50

    pier = tuple(round(v * scale) for v in (50, 140, 50, 40))  # inside the polygon mask
    rle_in = tuple(round(v * scale) for v in (30, 260, 40, 30))  # inside the RLE mask
    outside = tuple(round(v * scale) for v in (150, 230, 60, 15))  # in no layer
    shown = {k: pixels(page, r).astype(int) for k, r in (("pier", pier), ("rle", rle_in), ("out", outside))}
    page.uncheck("#layer-masks")
    assert page.get_attribute("#canvas", "data-masks") == "0"
    hidden = {k: pixels(page, r).astype(int) for k, r in (("pier", pier), ("rle", rle_in), ("out", outside))}
    assert np.abs(shown["pier"] - hidden["pier"]).mean() > 20
    assert np.abs(shown["rle"] - hidden["rle"]).mean() > 20
    np.testing.assert_array_equal(shown["out"], hidden["out"])

    page.uncheck("#layer-boxes")
    assert page.get_attribute("#canvas", "data-boxes") == "0"
    assert near(ship_colour, pixels(page, strip), tol=10) < 5
    page.uncheck("#layer-prompts")
    assert near(PROMPT_COLOR, pixels(page, (100, 100, 201, 201))[edge]) < 5

    with page.expect_download() as download:
        page.click("#download-geojson")
    saved = tmp_path / "out.geojson"
    download.value.save_as(saved)
    assert json.loads(saved.read_text()) == answer["choices"][0]["message"]["earthgpt"]["geojson"]
    assert errors == []  # no script error on the way
    page.close()


def test_page_builds_pixel_geojson_without_a_crs_and_shows_errors(
    browser: Any, base_url: str, data_root: Path, tmp_path: Path
) -> None:
    jpg = next(iter(sorted((data_root / "rsscn7").rglob("*.jpg"))), None)
    if jpg is None:
        pytest.skip("no rsscn7 JPEG in the shared data")
    answer = _answer(400, 400)
    del answer["choices"][0]["message"]["earthgpt"]["geojson"]
    replies = [
        {
            "status": 400,
            "content_type": "application/json",
            "body": json.dumps(
                {
                    "error": {
                        "message": "this model has no prompt encoder",
                        "type": "invalid_request_error",
                        "param": "earthgpt.prompts",
                        "code": None,
                    }
                }
            ),
        },
        {"status": 200, "content_type": "application/json", "body": json.dumps(answer)},
    ]
    page, errors = new_page(browser)
    sent: list[dict[str, Any]] = []

    def fulfil(route: Any) -> None:
        sent.append(json.loads(route.request.post_data))
        route.fulfill(**replies.pop(0))

    page.route("**/v1/chat/completions", fulfil)
    page.goto(base_url + "/")
    drop = page.evaluate_handle(_DROP, [base64.b64encode(jpg.read_bytes()).decode(), jpg.name])
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": drop})
    page.wait_for_function("document.getElementById('drop-zone').classList.contains('loaded')")
    assert f"{jpg.name}: 400 x 400 px; no CRS" in page.inner_text("#image-info")
    page.check("#tool-point")
    box = page.locator("#canvas").bounding_box()
    page.mouse.click(box["x"] + 50, box["y"] + 60)
    assert page.get_attribute("#canvas", "data-prompts") == "1"
    page.check("#tool-scribble")
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(box["x"] + 200 + 20 * k, box["y"] + 200 + 10 * (k % 2))
    page.mouse.up()
    assert page.get_attribute("#canvas", "data-prompts") == "2"
    assert page.input_value("#question").split() == ["<region1>", "<region2>"]
    page.fill("#question", "Is <region1> part of <region2>?")
    page.click("#send")
    page.wait_for_selector("#messages li.error")
    assert "no prompt encoder" in page.inner_text("#messages li.error")
    assert "no prompt encoder" in page.inner_text("#status")
    page.click("#send")
    page.wait_for_selector("#messages li.assistant")
    assert sent[0] == sent[1]  # a refused question is not kept in the history: the retry sends the same
    assert set(sent[1]["earthgpt"]) == {"prompts"}  # no zoom plan given: the model's default
    point, scribble = sent[1]["earthgpt"]["prompts"]
    scale = float(page.evaluate("document.getElementById('canvas').width")) / 400.0
    assert point["kind"] == "point"
    np.testing.assert_allclose(point["points"], [[50 / scale, 60 / scale]], atol=1.0 / scale)
    assert scribble["kind"] == "scribble" and len(scribble["strokes"]) == 1
    np.testing.assert_allclose(scribble["strokes"][0][0], [200 / scale, 200 / scale], atol=1.0 / scale)
    assert len(scribble["strokes"][0]) == 6
    with page.expect_download() as download:
        page.click("#download-geojson")
    saved = tmp_path / "pixels.geojson"
    download.value.save_as(saved)
    gj = json.loads(saved.read_text())
    assert "no CRS" in gj["warning"]
    assert [f["geometry"]["type"] for f in gj["features"]] == ["Polygon", "Polygon", "MultiPolygon"]
    assert gj["features"][0]["geometry"]["coordinates"][0] == [
        [250, 30],
        [350, 30],
        [350, 90],
        [250, 90],
        [250, 30],
    ]
    assert gj["features"][2]["geometry"]["coordinates"] == [[[[30, 120], [120, 120], [120, 200], [30, 200], [30, 120]]]]
    assert errors == []  # no script error on the way
    page.close()


def test_page_over_the_real_server_shows_the_answer_and_its_overlay(
    browser: Any, base_url: str, honolulu: Path, tmp_path: Path
) -> None:
    """Nothing intercepted: the tiny random model answers. The check does not depend on what it says: the answer
    text, the boxes layer and the GeoJSON the page shows are the response's own."""
    page, errors = new_page(browser)
    page.goto(base_url + "/")
    page.wait_for_function("document.getElementById('model-name').textContent === 'earthgpt'")
    open_image(page, honolulu, 424)
    draw_box(page, 100, 100, 300, 300)
    assert page.get_attribute("#canvas", "data-prompts") == "1"
    edge = pixels(page, (100, 100, 201, 3))
    assert near(PROMPT_COLOR, edge) > 150

    page.fill("#question", "What is in <region1>?")
    with page.expect_response("**/v1/chat/completions") as refused:
        page.click("#send")
    page.wait_for_selector("#messages li.error")
    error = refused.value.json()["error"]
    assert 400 <= refused.value.status < 500  # a plain model given a prompt: refused, and the page says why
    assert page.locator("#messages li.error").text_content() == error["message"]

    page.click("#clear-prompts")  # nothing was asked yet: the prompt can go
    assert page.get_attribute("#canvas", "data-prompts") == "0"
    assert page.input_value("#question") == "What is in?"
    page.fill("#question", "Detect all ships in the image.")
    page.fill("#max-tokens", "24")
    with (
        page.expect_request("**/v1/chat/completions") as request,
        page.expect_response("**/v1/chat/completions") as answered,
    ):
        page.click("#send")
    page.wait_for_selector("#messages li.assistant")
    assert answered.value.status == 200, answered.value.text()
    message = answered.value.json()["choices"][0]["message"]
    ext = message["earthgpt"]
    assert page.locator("#messages li.assistant").text_content() == message["content"]
    assert page.get_attribute("#canvas", "data-boxes") == str(len(ext["boxes"]))
    assert page.locator("#result-list li").count() == len(ext["boxes"]) + len(ext["masks"])
    assert (ext["width"], ext["height"], ext["crs"]) == (424, 316, "EPSG:3857")
    assert "earthgpt" not in json.loads(request.value.post_data)  # no prompts, no zoom plan
    page.screenshot(path=str(tmp_path / "real-server.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'real-server.png'}")

    with page.expect_download() as download:
        page.click("#download-geojson")
    saved = tmp_path / "answer.geojson"
    download.value.save_as(saved)
    gj = json.loads(saved.read_text())
    assert gj == ext["geojson"] and gj["type"] == "FeatureCollection"
    assert gj["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::3857"

    page.fill("#question", "And the harbour?")
    with page.expect_request("**/v1/chat/completions") as second:
        page.click("#send")
    page.wait_for_function("document.querySelectorAll('#messages li.assistant').length === 2")
    sent = json.loads(second.value.post_data)["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == message["content"] and sent[2]["content"] == "And the harbour?"
    assert sent[0]["content"][0]["image_url"]["url"].startswith("data:image/tiff;base64,")
    assert errors == []
    page.close()


def test_a_jpeg_turned_by_exif_is_shown_as_the_server_reads_it(browser: Any, base_url: str, tmp_path: Path) -> None:
    """A browser turns a JPEG by its EXIF orientation, the server does not: the page shows the server's preview, so a
    prompt drawn on it is in the pixels the model sees."""
    from PIL import Image

    rgb = np.zeros((40, 100, 3), dtype=np.uint8)
    rgb[:, :50] = 255  # left half white, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to show"
    path = tmp_path / "turned.jpg"
    Image.fromarray(rgb).save(path, format="JPEG", exif=exif.tobytes())
    page, errors = new_page(browser)
    page.goto(base_url + "/")
    page.set_input_files("#file-input", str(path))
    page.wait_for_function("document.getElementById('drop-zone').classList.contains('loaded')")
    assert "turned.jpg: 100 x 40 px" in page.inner_text("#image-info")
    width, height = page.evaluate("[document.getElementById('canvas').width, document.getElementById('canvas').height]")
    assert width > height
    left, right = pixels(page, (5, height // 2, 1, 1)), pixels(page, (width - 5, height // 2, 1, 1))
    assert left.min() > 200 and right.max() < 50  # drawn as stored, not turned
    assert errors == []
    page.close()
