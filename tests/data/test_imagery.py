"""Raster reading: the pixel budget before decoding, windowed and decimated reads, truncated files, colour modes and
the band axis taken from the file. Every file is written here, in the format the case needs."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import rasterio
import tifffile
from affine import Affine
from PIL import Image
from rasterio.windows import Window

from earthgpt.data.imagery import (
    MAX_PIXELS_ENV,
    ImageReadError,
    load_image,
    probe,
    read_raster,
    view_size,
)
from earthgpt.data.records import ImageRef, Tile
from tests.conftest import REPO_ROOT

BLOCK = np.arange(512 * 512 * 3, dtype=np.uint32).reshape(3, 512, 512).astype(np.uint8)  # [C, H, W]


def sparse_geotiff(path: Path, side: int) -> Path:
    """A tiled, deflate-compressed, georeferenced GeoTIFF whose header says ``side`` x ``side`` x 3, with one 512 px
    block of data at (512, 512) and every other block absent (GDAL sparse files): a few hundred KB on disk."""
    profile = {
        "driver": "GTiff",
        "width": side,
        "height": side,
        "count": 3,
        "dtype": "uint8",
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "sparse_ok": True,
        "crs": "EPSG:32633",
        "transform": Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0),
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(BLOCK, window=Window(512, 512, 512, 512))
    return path


def test_a_30000_px_geotiff_of_240_kb_is_read_by_window_and_decimated(tmp_path: Path) -> None:
    path = sparse_geotiff(tmp_path / "scene.tif", 30000)
    assert path.stat().st_size < 240_000
    info = probe(path)  # over the budget: header and tile offsets only, no decode
    assert (info.width, info.height, info.bands, info.dtype) == (30000, 30000, 3, "uint8")
    with pytest.raises(ImageReadError) as e:
        read_raster(path)  # the whole scene at full resolution: refused before decoding
    assert e.value.path == str(path) and MAX_PIXELS_ENV in e.value.fix and "900,000,000" in e.value.problem
    window = read_raster(path, (600, 700, 800, 400))  # [h, w, C]
    expected = np.zeros((400, 800, 3), np.uint8)
    expected[:324, :424] = np.moveaxis(BLOCK[:, 188:, 88:], 0, -1)
    assert np.array_equal(window, expected)
    tile = Tile(600, 700, 800, 400, 1.0, 30000, 30000)
    assert np.array_equal(load_image(ImageRef(str(path), 800, 400, tile=tile)), expected)
    view = load_image(ImageRef(str(path), 30000, 30000), max_side=160)  # 30000 // 640 = 46 -> 653 px
    assert view.shape == (653, 653, 3) and view.dtype == np.uint8


def test_the_whole_image_view_shrinks_by_an_integer_factor_only_when_far_larger(tmp_path: Path) -> None:
    png, tif = tmp_path / "a.png", tmp_path / "a.tif"
    assert view_size(png, 1279, 900, 160) is None  # under 2 * 4 * 160 px: full resolution
    assert view_size(png, 1280, 900, 160) == (640, 450)
    assert view_size(png, 1280, 900, None) is None
    assert view_size(tif, 100_000, 100_000, None) == (11112, 11112)  # a TIFF over the budget fits it
    assert view_size(png, 100_000, 100_000, None) is None  # a PNG cannot: its read is refused


def test_a_100000_px_header_costs_what_is_read(tmp_path: Path) -> None:
    path = sparse_geotiff(tmp_path / "huge.tif", 100_000)
    with pytest.raises(ImageReadError, match=r"10,000,000,000 pixels"):
        read_raster(path)
    tracemalloc.start()
    try:
        tile = load_image(ImageRef(str(path), 800, 800, tile=Tile(400, 400, 800, 800, 1.0, 100_000, 100_000)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tile.shape == (800, 800, 3)
    assert np.array_equal(tile[112:624, 112:624], np.moveaxis(BLOCK, 0, -1))
    assert peak < 12 * 2**20  # a tile is 1.9 MB; the whole scene would be 28 GiB


def test_a_tile_of_a_large_tiled_geotiff_stays_within_a_bounded_resident_size(tmp_path: Path) -> None:
    """In a fresh process (GDAL's buffers are not seen by tracemalloc): one 800 px tile and one whole-image view of a
    100000 x 100000 scene, then the process's peak resident size (VmHWM: unlike ru_maxrss it starts afresh at exec,
    not at the size of the forking pytest process)."""
    path = sparse_geotiff(tmp_path / "huge.tif", 100_000)
    script = (
        "import sys\n"
        "from earthgpt.data.imagery import load_image\n"
        "from earthgpt.data.records import ImageRef, Tile\n"
        "ref = ImageRef(sys.argv[1], 800, 800, tile=Tile(99200, 99200, 800, 800, 1.0, 100000, 100000))\n"
        "assert load_image(ref).shape == (800, 800, 3)\n"
        "assert load_image(ImageRef(sys.argv[1], 0, 0), max_side=64).shape == (257, 257, 3)\n"
        "print(next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')).split()[1])\n"
    )
    env = {"PYTHONPATH": str(REPO_ROOT / "src"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    peak_mib = int(out.stdout.split()[-1]) / 1024
    assert peak_mib < 400  # the interpreter, numpy, PIL and GDAL; the whole scene would be 28 GiB


def test_a_truncated_tiff_fails_the_probe_naming_the_file(tmp_path: Path) -> None:
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.full((256, 256), 9, np.uint8), rowsperstrip=16)
    cut = tmp_path / "cut.tif"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert probe(good).width == 256
    with pytest.raises(ImageReadError) as e:
        probe(cut, decode=False)  # the strip offsets alone show it
    assert e.value.path == str(cut) and "truncated" in e.value.problem and "copy the file again" in e.value.fix


def test_a_corrupt_compressed_tiff_fails_the_decoding_probe(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.tif"
    rng = np.random.default_rng(0)
    tifffile.imwrite(path, rng.integers(0, 255, (128, 128), dtype=np.uint8), compression="zlib", rowsperstrip=128)
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        start = tif.pages.first.dataoffsets[0]
    data[start + 20 : start + 220] = bytes(200)
    path.write_bytes(bytes(data))
    assert probe(path, decode=False).width == 128  # the header is fine
    with pytest.raises(ImageReadError, match="cannot decode the TIFF data"):
        probe(path)


def test_the_band_axis_comes_from_the_planar_configuration(tmp_path: Path) -> None:
    hwc = np.arange(10 * 20 * 13, dtype=np.uint16).reshape(10, 20, 13)  # 10 rows, 20 columns, 13 bands
    tifffile.imwrite(tmp_path / "hwc.tif", hwc, photometric="minisblack", planarconfig="contig")
    tifffile.imwrite(tmp_path / "chw.tif", np.moveaxis(hwc, -1, 0), photometric="minisblack", planarconfig="separate")
    for name in ("hwc.tif", "chw.tif"):
        info = probe(tmp_path / name)
        assert (info.width, info.height, info.bands, info.dtype) == (20, 10, 13, "uint16")
        assert np.array_equal(read_raster(tmp_path / name), hwc)


def test_palette_and_cmyk_tiffs_read_as_rgb(tmp_path: Path) -> None:
    indices = np.array([[0, 1], [2, 1]], np.uint8)
    colormap = np.zeros((3, 256), np.uint16)
    colormap[:, 1] = [65535, 0, 0]
    colormap[:, 2] = [0, 32896, 65535]
    tifffile.imwrite(tmp_path / "p.tif", indices, photometric="palette", colormap=colormap)
    cmyk = np.array([[[255, 0, 0, 0], [0, 0, 0, 128]]], np.uint8)  # pure cyan ink; half black
    tifffile.imwrite(tmp_path / "cmyk.tif", cmyk, photometric="separated")
    assert probe(tmp_path / "p.tif").bands == 3
    assert read_raster(tmp_path / "p.tif").tolist() == [[[0, 0, 0], [255, 0, 0]], [[0, 128, 255], [255, 0, 0]]]
    assert probe(tmp_path / "cmyk.tif").bands == 3
    assert read_raster(tmp_path / "cmyk.tif").tolist() == [[[0, 255, 255], [127, 127, 127]]]


def test_a_cmyk_jpeg_reaches_the_model_as_rgb(tmp_path: Path) -> None:
    ink = np.zeros((32, 64, 4), np.uint8)
    ink[:, :32, 0] = 255  # left half cyan ink: RGB (0, 255, 255)
    ink[:, 32:, 1] = 255  # right half magenta ink: RGB (255, 0, 255)
    Image.fromarray(ink, mode="CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"
    info = probe(tmp_path / "cmyk.jpg")
    assert (info.bands, info.dtype) == (3, "uint8")
    rgb = load_image(ImageRef(str(tmp_path / "cmyk.jpg"), 64, 32)).astype(int)
    assert np.abs(rgb[8:24, 4:28] - [0, 255, 255]).max() <= 8
    assert np.abs(rgb[8:24, 36:60] - [255, 0, 255]).max() <= 8


@pytest.mark.parametrize(
    ("mode", "pixels", "expected", "dtype"),
    [
        ("1", [[0, 1]], [[0, 255]], "uint8"),
        ("LA", [[(10, 0), (200, 255)]], [[10, 200]], "uint8"),
        ("RGBA", [[(1, 2, 3, 0), (4, 5, 6, 255)]], [[(1, 2, 3), (4, 5, 6)]], "uint8"),
        ("I;16", [[0, 65535]], [[0, 65535]], "uint16"),
    ],
)
def test_png_colour_modes_convert_by_what_they_mean(
    tmp_path: Path, mode: str, pixels: list, expected: list, dtype: str
) -> None:
    im = Image.new(mode, (2, 1))
    im.putdata([v for row in pixels for v in row])
    im.save(tmp_path / "m.png")
    arr = read_raster(tmp_path / "m.png")
    want = np.asarray(expected)
    assert arr.dtype == np.dtype(dtype) and arr.shape == (1, 2, want.shape[2] if want.ndim == 3 else 1)
    assert np.array_equal(arr.reshape(want.shape), want)
    assert probe(tmp_path / "m.png").bands == arr.shape[2]


def test_a_palette_png_reads_as_its_colours(tmp_path: Path) -> None:
    im = Image.new("P", (3, 1))
    im.putpalette([0, 0, 0, 250, 10, 20, 5, 6, 7] + [0] * 759)
    im.putdata([1, 2, 0])
    im.save(tmp_path / "p.png")
    assert read_raster(tmp_path / "p.png").tolist() == [[[250, 10, 20], [5, 6, 7], [0, 0, 0]]]


def test_the_budget_is_checked_before_decoding_and_names_its_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (3000, 2000), 7).save(path)
    monkeypatch.setenv(MAX_PIXELS_ENV, "1000000")
    with pytest.raises(ImageReadError) as e:
        probe(path)  # what the build calls: the file is skipped, named, with the fix
    assert e.value.path == str(path) and f"{MAX_PIXELS_ENV}=6000000" in e.value.fix
    assert "6,000,000 pixels" in str(e.value)
    assert probe(path, decode=False).width == 3000  # the header alone is not a decode
    monkeypatch.setenv(MAX_PIXELS_ENV, "6000000")
    assert read_raster(path).shape == (2000, 3000, 1)
    monkeypatch.setenv(MAX_PIXELS_ENV, "12O")
    with pytest.raises(ValueError, match=MAX_PIXELS_ENV):
        probe(path)


def test_a_whole_jpeg_view_is_decoded_at_a_reduced_scale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jpg"
    gradient = np.broadcast_to(np.linspace(0, 255, 4000).astype(np.uint8)[None, :, None], (3000, 4000, 3))
    Image.fromarray(np.ascontiguousarray(gradient)).save(path, quality=90)
    monkeypatch.setenv(MAX_PIXELS_ENV, "1000000")  # 4000 x 3000 cannot be decoded whole, 1000 x 750 can
    view = load_image(ImageRef(str(path), 4000, 3000), max_side=160)  # 4000 // 640 = 6 -> 667 x 500
    assert view.shape == (500, 667, 3)
    assert abs(int(view[250, 333, 0]) - 127) <= 3  # the middle of the gradient
    monkeypatch.setenv(MAX_PIXELS_ENV, "2000000")  # no model side: the budget alone asks for 1/sqrt(6), so 1/4
    assert view_size(path, 4000, 3000, None) == (1000, 750)
    assert load_image(ImageRef(str(path), 4000, 3000)).shape == (750, 1000, 3)
    with pytest.raises(ImageReadError, match=MAX_PIXELS_ENV):  # a tile needs the full-size decode
        load_image(ImageRef(str(path), 100, 100, tile=Tile(0, 0, 100, 100, 1.0, 4000, 3000)))


@pytest.mark.parametrize(("suffix", "side"), [(".png", 200), (".png", 2100), (".jpg", 200), (".jpg", 2100)])
def test_truncated_jpeg_and_png_fail_the_probe(tmp_path: Path, suffix: str, side: int) -> None:
    """Small files are decoded whole; above 4 Mpx a PNG is checked chunk by chunk and a JPEG decoded at 1/8."""
    rng = np.random.default_rng(side)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(
        buf, format={".png": "PNG", ".jpg": "JPEG"}[suffix]
    )
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) * 2 // 3])
    assert probe(path, decode=False).width == side
    with pytest.raises(ImageReadError) as e:
        probe(path)
    assert e.value.path == str(path) and "cannot decode" in e.value.problem


def test_missing_and_non_image_files_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    for name in ("absent.png", "notes.jpg", "empty.png"):
        with pytest.raises(ImageReadError) as e:
            load_image(ImageRef(name, 0, 0), tmp_path)
        assert e.value.path == str(tmp_path / name) and e.value.fix


def test_the_error_survives_pickling_between_processes() -> None:
    assert not pickle.loads(pickle.dumps(ImageReadError("/x/a.tif", "t", "f"))).over_budget
    err = pickle.loads(pickle.dumps(ImageReadError("/x/a.tif", "truncated", "copy it again", over_budget=True)))
    assert err.over_budget
    assert (err.path, err.problem, err.fix, str(err)) == (
        "/x/a.tif",
        "truncated",
        "copy it again",
        "/x/a.tif: truncated; copy it again",
    )
