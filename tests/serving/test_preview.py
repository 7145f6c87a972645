"""POST /v1/preview on real sen2ships GeoTIFFs (16-bit, 1 and 3 bands, EPSG:3857) and on bad uploads; GET / serves
the page's files, none of them fetched from elsewhere."""

from __future__ import annotations

import base64
import io
import re
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
rasterio = pytest.importorskip("rasterio")

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from earthgpt.serving.page import STATIC_FILES, page_router  # noqa: E402

SEN2 = Path("sen2ships") / "sen2ships"


def _client(**kwargs: int) -> TestClient:
    app = FastAPI()
    app.include_router(page_router(**kwargs))
    return TestClient(app)


def _png(body: dict) -> np.ndarray:
    url = body["preview"]["url"]
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def _stretch(band: np.ndarray) -> np.ndarray:
    """The 2-98 % linear stretch to 0..255, computed here independently of the package."""
    lo, hi = np.percentile(band.astype(np.float64), [2, 98])
    return np.clip((band - lo) * 255.0 / (hi - lo), 0, 255)


@pytest.fixture(scope="module")
def honolulu(data_root: Path) -> Path:
    path = data_root / SEN2 / "honolulu" / "honolulu_rgb.tiff"
    if not path.is_file():
        pytest.skip(f"{path} is absent from the shared data")
    return path


@pytest.fixture(scope="module")
def klang_b04(data_root: Path) -> Path:
    found = sorted((data_root / SEN2 / "klang").glob("*B04*(Raw).tiff"))
    if not found:
        pytest.skip("the klang B04 band is absent from the shared data")
    return found[0]


def test_multiband_16bit_geotiff_keeps_size_crs_transform_and_stretch(honolulu: Path) -> None:
    with rasterio.open(honolulu) as ds:
        raw = ds.read()  # [3, H, W] uint16
        crs, transform = ds.crs.to_string(), list(ds.transform)[:6]
    assert raw.dtype == np.uint16 and raw.shape[0] == 3
    r = _client().post("/v1/preview", content=honolulu.read_bytes())
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"], body["bands"], body["dtype"]) == (raw.shape[2], raw.shape[1], 3, "uint16")
    assert body["crs"] == crs == "EPSG:3857"
    assert body["transform"] == pytest.approx(transform)
    assert body["warning"] is None and body["display_bands"] == [1, 2, 3]
    png = _png(body)
    assert png.shape == (raw.shape[1], raw.shape[2], 3)
    expected = np.stack([_stretch(b) for b in raw], axis=-1)  # [H, W, 3]
    diff = np.abs(png.astype(np.float64) - expected)
    assert diff.max() <= 1.0 and diff.mean() < 0.6


def test_band_choice_reorders_the_channels(honolulu: Path) -> None:
    client = _client()
    default = _png(client.post("/v1/preview", content=honolulu.read_bytes()).json())
    r = client.post("/v1/preview?bands=3,2,1", content=honolulu.read_bytes())
    assert r.status_code == 200, r.text
    assert r.json()["display_bands"] == [3, 2, 1]
    np.testing.assert_array_equal(_png(r.json()), default[:, :, ::-1])


def test_single_band_16bit_is_grey_and_decimated_to_the_preview_side(klang_b04: Path) -> None:
    with rasterio.open(klang_b04) as ds:
        width, height, transform = ds.width, ds.height, list(ds.transform)[:6]
    r = _client(preview_side=256).post("/v1/preview", content=klang_b04.read_bytes())
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"], body["bands"]) == (width, height, 1)
    assert body["transform"] == pytest.approx(transform)
    assert max(body["preview"]["width"], body["preview"]["height"]) == 256
    png = _png(body)
    assert png.shape == (body["preview"]["height"], body["preview"]["width"], 3)
    assert (png[:, :, 0] == png[:, :, 1]).all() and (png[:, :, 1] == png[:, :, 2]).all()
    assert png.min() == 0 and png.max() == 255  # the percentile stretch spans the range


def test_sar_profile_is_a_db_stretch_that_keeps_the_order_of_values(klang_b04: Path) -> None:
    with rasterio.open(klang_b04) as ds:
        raw = ds.read(1).astype(np.float64)  # [H, W]
    r = _client().post("/v1/preview?profile=sar", content=klang_b04.read_bytes())
    assert r.status_code == 200, r.text
    assert r.json()["profile"] == "sar"
    grey = _png(r.json())[:, :, 0].astype(np.float64)
    assert grey.shape == raw.shape  # under the preview side: full resolution
    order = np.argsort(raw, axis=None, kind="stable")
    assert (np.diff(grey.reshape(-1)[order]) >= 0).all()  # a monotone map of the amplitude
    linear = np.clip((raw - np.percentile(raw, 2)) * 255 / (np.percentile(raw, 98) - np.percentile(raw, 2)), 0, 255)
    assert np.median(grey) > np.median(linear) + 10  # log (dB) lifts the dark water that a linear stretch leaves black
    for tail in ((grey == 0).mean(), (grey == 255).mean()):
        assert 0.005 < tail < 0.05  # about the 2 % clipped at each end


def test_a_large_geotiff_is_read_decimated_in_memory_of_the_preview(tmp_path: Path) -> None:
    from rasterio.transform import Affine
    from rasterio.windows import Window

    from earthgpt.serving.preview import make_preview

    path, side = tmp_path / "large.tif", 4000  # 32 MB of uint16 samples, tiled and compressed as scenes are
    profile = {"driver": "GTiff", "width": side, "height": side, "count": 1, "dtype": "uint16", "crs": "EPSG:32633",
               "transform": Affine(10, 0, 500000, 0, -10, 4000000), "tiled": True, "blockxsize": 512,
               "blockysize": 512, "compress": "deflate"}  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        for y in range(0, side, 1000):
            rows = np.arange(y, y + 1000)[:, None]
            ds.write(((rows + np.arange(side)[None, :]) % 3000).astype(np.uint16), 1, window=Window(0, y, side, 1000))
    make_preview(path, side=256)  # imports and GDAL's setup, outside the measure
    tracemalloc.start()
    try:
        preview = make_preview(path, side=256)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert preview.preview_size == (256, 256) and (preview.info.width, preview.info.height) == (side, side)
    assert preview.crs == "EPSG:32633"
    assert peak < 8 << 20, f"peak {peak / 1e6:.1f} MB: the whole raster (32 MB) was held"


def test_plain_png_has_no_crs_and_says_so(tmp_path: Path) -> None:
    rgb = np.arange(20 * 30 * 3, dtype=np.uint8).reshape(20, 30, 3)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    body = _client().post("/v1/preview", content=buf.getvalue()).json()
    assert (body["width"], body["height"], body["crs"], body["transform"]) == (30, 20, None, None)
    assert "no CRS" in body["warning"]
    np.testing.assert_array_equal(_png(body), rgb)


def test_tiff_without_crs_has_pixel_coordinates_and_a_warning(tmp_path: Path) -> None:
    grey = (np.arange(20 * 30, dtype=np.uint16).reshape(20, 30) * 100).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="TIFF")  # a plain TIFF: no GeoTIFF keys
    r = _client().post("/v1/preview", content=buf.getvalue())
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"], body["bands"], body["dtype"]) == (30, 20, 1, "uint16")
    assert body["crs"] is None and body["transform"] is None and "no CRS" in body["warning"]


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG signature and an IHDR chunk (valid CRC) saying ``width`` x ``height``, then a tiny IDAT and IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("body", "query", "status", "message"),
    [
        (b"hello, this is not an image", "", 415, "not a JPEG, PNG or TIFF"),
        (b"", "", 400, "empty"),
        (_png_header_claiming(60000, 60000), "", 413, "pixel budget"),
    ],
    ids=["text", "empty", "60000x60000-header"],
)
def test_bad_uploads_are_4xx_with_a_message(body: bytes, query: str, status: int, message: str) -> None:
    client = _client()
    r = client.post(f"/v1/preview{query}", content=body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]["message"]
    assert client.get("/").status_code == 200  # the server still answers


def test_truncated_tiff_oversize_bad_bands_and_bad_profile(honolulu: Path) -> None:
    data = honolulu.read_bytes()
    client = _client()
    r = client.post("/v1/preview", content=data[: len(data) // 3])
    assert r.status_code == 400 and "truncated" in r.json()["error"]["message"]
    small = _client(max_upload_bytes=len(data) - 1)
    r = small.post("/v1/preview", content=data)  # refused from its Content-Length
    assert r.status_code == 413 and f"over {len(data) - 1:,} bytes" in r.json()["error"]["message"]
    r = small.post("/v1/preview", content=iter([data[:4096], data[4096:]]))  # chunked: refused while streaming
    assert r.status_code == 413 and f"over {len(data) - 1:,} bytes" in r.json()["error"]["message"]
    r = small.post("/v1/preview", content=iter([data[:5], data[5 : len(data) // 2]]))  # chunked, under the limit
    assert r.status_code == 400 and "truncated" in r.json()["error"]["message"]  # the magic split across chunks
    r = client.post("/v1/preview?bands=4", content=data)
    assert r.status_code == 400 and "bands 1..3" in r.json()["error"]["message"]
    r = client.post("/v1/preview?bands=red", content=data)
    assert r.status_code == 400 and "bands='red'" in r.json()["error"]["message"]
    r = client.post("/v1/preview?profile=landsat", content=data)
    assert r.status_code == 400 and "unknown sensor profile 'landsat'" in r.json()["error"]["message"]


def test_page_files_are_served_and_fetch_nothing_from_elsewhere() -> None:
    client = _client()
    html = client.get("/")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    refs = set(re.findall(r'(?:src|href)="([^"]+)"', html.text))
    assert refs == {"overlay.js", "page.js", "page.css", "data:,"}  # no favicon request
    for name, media in STATIC_FILES.items():
        r = client.get("/" if name == "index.html" else f"/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == media
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", r.text), f"{name} refers to another host"
