"""Command-line flags generated from config dataclasses: one flag per field, the field's docstring as its help."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import itertools
import textwrap
import types
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from earthgpt.errors import ConfigError

MODEL_HELP = "model directory (default: $EARTHGPT_MODEL, else the shipped models/earthgpt-tiny)"
"""Help of ``--model`` where it defaults to ``models.shipped.default_model_dir`` (chat, serve, scene, demo)."""


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass (``field: T = x`` then ``\"\"\"doc\"\"\"``), by name."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        for stmt, nxt in itertools.pairwise(body):
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
                docs[stmt.target.id] = " ".join(nxt.value.value.split())
    return docs


def _unwrap_optional(tp: Any) -> Any:
    """``X | None`` -> ``X``; any other type unchanged."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _flag_kwargs(tp: Any) -> dict[str, Any] | None:
    """argparse keyword arguments for a field type; None for types a flag cannot carry (dicts, nested configs)."""
    tp = _unwrap_optional(tp)
    if tp is bool:
        return {"action": argparse.BooleanOptionalAction}
    if tp in (int, float, str):
        return {"type": tp}
    if get_origin(tp) is Literal:
        choices = get_args(tp)
        return {"type": type(choices[0]), "choices": choices}
    if get_origin(tp) is list and len(get_args(tp)) == 1 and get_args(tp)[0] in (int, float, str):
        return {"type": get_args(tp)[0], "nargs": "*", "metavar": "X"}  # ``--flag`` alone gives the empty list
    if get_origin(tp) is tuple and get_args(tp) and Ellipsis not in get_args(tp):
        kinds = set(get_args(tp))
        if len(kinds) == 1 and next(iter(kinds)) in (int, float, str):
            return {"type": next(iter(kinds)), "nargs": len(get_args(tp)), "metavar": "X"}
    return None


def add_dataclass_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    exclude: Collection[str] = (),
    aliases: Mapping[str, Sequence[str]] | None = None,
    choices: Mapping[str, Sequence[Any]] | None = None,
    default_help: str | None = None,
) -> list[str]:
    """One ``--field-name`` flag per field of ``cls`` (absent from the namespace unless given); returns the names.

    ``aliases`` adds further option strings to a field's flag; ``choices`` restricts a field's values;
    ``default_help`` replaces the field default in the help (when another table supplies the defaults).
    """
    hints = get_type_hints(cls)
    docs = field_docs(cls)
    added = []
    for f in dataclasses.fields(cls):
        kwargs = _flag_kwargs(hints[f.name]) if f.name not in exclude else None
        if kwargs is None:
            continue
        if choices and f.name in choices:
            kwargs["choices"] = tuple(choices[f.name])
        help_text = docs.get(f.name, "")
        if default_help is not None:
            help_text += f" (default: {default_help})"
        elif f.default is not dataclasses.MISSING and f.default is not None:
            help_text += f" (default: {f.default})"
        names = [f"--{f.name.replace('_', '-')}", *(aliases or {}).get(f.name, ())]
        parser.add_argument(*names, dest=f.name, default=argparse.SUPPRESS, help=help_text.replace("%", "%%"), **kwargs)
        added.append(f.name)
    return added


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` given on the command line (flags made by :func:`add_dataclass_flags`)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}  # nargs flags give lists


def build(cls: type, values: Mapping[str, Any], where: str = "options") -> Any:
    """``cls(**values)`` after checking names: unknown keys and missing required fields raise ConfigError."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown option(s) {unknown}; known: {sorted(known)}")
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and values.get(f.name) is None
    ]
    if required:
        flags = " and ".join("--" + n.replace("_", "-") for n in required)
        raise ConfigError(f"{where}: {flags} required (see --help)")
    return cls(**values)
