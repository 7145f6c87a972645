"""Benchmarks as data: task specs mirroring the paper's tables."""
