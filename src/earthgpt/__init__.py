"""EarthGPT: a multi-sensor remote-sensing multimodal LLM toolkit."""

__version__ = "0.1.0"
