"""Inference: the predictor that loads and runs a model, tiling and stitching."""
