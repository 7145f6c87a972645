"""One module per remote-sensing dataset, each reading the dataset's native format into typed records."""

from __future__ import annotations

import importlib
import pkgutil

from earthgpt.data.sources.base import REGISTRY, SKIP_REASONS, DataRootError, Skip, Source, register

_loaded = False


def _discover() -> None:
    """Import every module of this package once, so that each ``@register``-ed source is known."""
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def get_source(name: str) -> type[Source]:
    """The source class registered as ``name``; the error lists the known names."""
    _discover()
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known sources: {', '.join(sorted(REGISTRY))}") from None


def all_sources() -> dict[str, type[Source]]:
    _discover()
    return dict(sorted(REGISTRY.items()))


__all__ = ["SKIP_REASONS", "DataRootError", "Skip", "Source", "all_sources", "get_source", "register"]
