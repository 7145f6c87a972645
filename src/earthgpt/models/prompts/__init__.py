"""EarthGPT-X visual prompts: rasterised prompt maps, the spatial-aware encoder, region tokens and the fusion block."""
