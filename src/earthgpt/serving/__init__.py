"""Serving: an OpenAI-compatible chat API (thin routes over the Predictor, a dynamic batcher, image intake)."""

from earthgpt.serving.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":  # FastAPI is the `serve` extra: imported when the app is made, not with the package
        from earthgpt.serving.app import create_app

        return create_app
    raise AttributeError(name)
