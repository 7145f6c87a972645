"""Class-name matching, one rule everywhere: the matching key of a name, exact matching, and finding a name in text.

``label_key`` is the one normalisation: lower case; punctuation (``_``, ``-``, ``/``, quotes and dashes included)
as spaces; whitespace collapsed; each word of more than three letters without a plural ``s`` (not ``ss``). Two
names are the same class when their keys are equal (``match_category``): a scene answer, a box label, a
dataset's own spelling ("Storage_Tanks", "storage tank" and "storage-tanks" agree). ``find_category`` looks for
a category named inside longer text (the words before a box, a sentence-long answer of the lenient scene
parser) by the same keys.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

__all__ = ["find_category", "label_key", "match_category"]

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}\u2018\u2019\u201c\u201d\u2013\u2014]")


def label_key(text: str) -> str:
    """The matching key of a class name (see the module docstring)."""
    words = _PUNCT.sub(" ", text.lower()).split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def match_category(text: str, categories: Sequence[str]) -> str | None:
    """The category whose key equals the key of ``text`` (the whole text names it), or None."""
    key = label_key(text)
    if not key:
        return None
    for c in categories:
        if label_key(c) == key:
            return c
    return None


def find_category(text: str, categories: Sequence[str]) -> str | None:
    """The category a free text names, or None.

    The whole text matching a category (:func:`match_category`) wins; otherwise the categories whose keys occur
    in the text's key as whole words are candidates, the longest first ("dense residential" over "residential"),
    then the earliest in the text. None when no category occurs.
    """
    whole = match_category(text, categories)
    if whole is not None:
        return whole
    padded = f" {label_key(text)} "
    found: list[tuple[int, int, str]] = []
    for c in categories:
        k = label_key(c)
        pos = padded.find(f" {k} ") if k else -1
        if pos >= 0:
            found.append((-len(k), pos, c))
    return min(found)[2] if found else None
