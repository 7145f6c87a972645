"""Vision encoders behind one interface: the multi-layer ViT branch, the multi-scale CNN branch, the hybrid."""

from earthgpt.models.vision.base import BackboneEncoder, PixelNormalizer, VisionEncoder
from earthgpt.models.vision.cnn import MultiScaleCNN, align_to_grid
from earthgpt.models.vision.hybrid import HybridEncoder
from earthgpt.models.vision.vit import MultiLayerViT

__all__ = [
    "BackboneEncoder",
    "HybridEncoder",
    "MultiLayerViT",
    "MultiScaleCNN",
    "PixelNormalizer",
    "VisionEncoder",
    "align_to_grid",
]
