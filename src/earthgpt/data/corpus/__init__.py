"""The instruction-corpus builder (paper Section IV): dataset sources -> sharded, resumable, deterministic JSONL.

``config`` (BuildConfig and its YAML), ``splits`` (the split definitions shared with the benchmarks), ``locate``
(where each source is; layout variants), ``check`` (``data check``), ``units`` (one source item -> JSON lines and
skips), ``tiling`` (cutting large detection images), ``shards`` (atomic shard commits, resume), ``resume`` (what a
rerun keeps), ``runner`` (the build), ``manifest`` (counts, skips, hashes; readers), ``export`` (LLaVA JSON),
``stats`` (Table I), ``table1`` (the paper's Table I), ``show`` (one conversation as a picture).

A build folder holds::

    conversations-00000.jsonl   one conversation per line (Conversation.to_dict plus record_id, split, modality)
    records-00000.jsonl         the ground-truth records of the same items (record_to_dict plus the source item)
    manifest.json               resolved config, counts, Table I rows, every skip, sha256 per shard and overall
    .build/                     plan fingerprint and one commit marker per shard (what a resumed build reads)

Image paths in both files are relative to the data root; tiles are windows (``ImageRef.tile``) of the untouched
source image.
"""

from earthgpt.data.corpus.check import check, check_exit_code, format_check
from earthgpt.data.corpus.config import BuildConfig, ConfigError, SourceSpec, TilingOptions, load_config, parse_roots
from earthgpt.data.corpus.export import ExportResult, export_llava
from earthgpt.data.corpus.manifest import BuildNotFoundError, iter_conversations, iter_records, read_manifest
from earthgpt.data.corpus.runner import BuildConflictError, BuildResult, build
from earthgpt.data.corpus.show import show
from earthgpt.data.corpus.stats import format_sources, list_sources, stats

__all__ = [
    "BuildConfig",
    "BuildConflictError",
    "BuildNotFoundError",
    "BuildResult",
    "ConfigError",
    "ExportResult",
    "SourceSpec",
    "TilingOptions",
    "build",
    "check",
    "check_exit_code",
    "export_llava",
    "format_check",
    "format_sources",
    "iter_conversations",
    "iter_records",
    "list_sources",
    "load_config",
    "parse_roots",
    "read_manifest",
    "show",
    "stats",
]
