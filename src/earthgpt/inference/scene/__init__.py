"""Whole scenes: slice a GeoTIFF into overlapping tiles, predict and shift, merge across tiles, export to GeoJSON."""

from earthgpt.inference.scene.merge import merge_boxes, nms
from earthgpt.inference.scene.predict import Answer, PredictorTiles, TileModel, scene_boxes
from earthgpt.inference.scene.run import SceneJob, SceneResult, outputs, run_scene
from earthgpt.inference.scene.slicing import Scene, open_scene, tile_windows

__all__ = [
    "Answer",
    "PredictorTiles",
    "Scene",
    "SceneJob",
    "SceneResult",
    "TileModel",
    "merge_boxes",
    "nms",
    "open_scene",
    "outputs",
    "run_scene",
    "scene_boxes",
    "tile_windows",
]
