"""Evaluation: pure metrics, benchmarks as data, the harness and its report."""
