"""EarthGPT-X visual prompts in the model: rasterised in the input geometry, encoded, fused with the image."""
