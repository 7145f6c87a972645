"""The EarthGPT model: hybrid vision encoder, projector, LLaMA-style language model, stage adapters."""
