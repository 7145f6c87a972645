"""Benchmarks as data: task specs mirroring the paper's tables, their samples and output parsers."""

from earthgpt.evaluation.tasks.load import TaskData, load_task, open_source
from earthgpt.evaluation.tasks.parsers import PARSERS, parser_of
from earthgpt.evaluation.tasks.registry import (
    GROUPS,
    PAPER_TASKS,
    REGION_SAMPLE_TASKS,
    REGION_TASKS,
    SAMPLE_TASKS,
    TASKS,
    get_task,
    resolve,
)
from earthgpt.evaluation.tasks.samples import default_prompt
from earthgpt.evaluation.tasks.spec import BoxFormat, Parsed, ParsedBox, Sample, TaskDataError, TaskKind, TaskSpec

__all__ = [
    "GROUPS",
    "PAPER_TASKS",
    "PARSERS",
    "REGION_SAMPLE_TASKS",
    "REGION_TASKS",
    "SAMPLE_TASKS",
    "TASKS",
    "BoxFormat",
    "Parsed",
    "ParsedBox",
    "Sample",
    "TaskData",
    "TaskDataError",
    "TaskKind",
    "TaskSpec",
    "default_prompt",
    "get_task",
    "load_task",
    "open_source",
    "parser_of",
    "resolve",
]
