"""Lenient class-name matching: which category a free text (an answer, the words before a box) names."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["label_key", "match_category"]

_PUNCT = re.compile(r"[\"'`“”‘’.,;:!?()\[\]{}<>*#]")


def label_key(text: str) -> str:
    """The matching key of a class name: lower case, '_'/'-' as spaces, each word without a plural 's'.

    Both sides of a comparison go through it, so "Storage_Tanks", "storage tank" and "storage-tanks" agree.
    """
    t = re.sub(r"[_\-/]", " ", text.lower())
    t = _PUNCT.sub(" ", t)
    words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in t.split()]
    return " ".join(words)


def match_category(text: str, categories: Sequence[str]) -> str | None:
    """The category a free-text answer names, or None.

    The whole answer matching a category (by :func:`label_key`) wins; otherwise the categories that occur in the
    answer as whole words are candidates, the longest first ("dense residential" over "residential"), then the
    earliest in the text. None when no category occurs.
    """
    key = label_key(text)
    if not key:
        return None
    keys = {label_key(c): c for c in categories}
    if key in keys:
        return keys[key]
    padded = f" {key} "
    found: list[tuple[int, int, str]] = []
    for k, c in keys.items():
        if not k:
            continue
        pos = padded.find(f" {k} ")
        if pos >= 0:
            found.append((-len(k), pos, c))
    if not found:
        return None
    return min(found)[2]
