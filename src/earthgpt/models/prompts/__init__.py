"""EarthGPT-X visual prompts in the model: rasterised in the input geometry (rasterise.py), encoded by the
spatial-aware encoder and pooled into region tokens (encoder.py), fused with the image tokens (fusion.py)."""
