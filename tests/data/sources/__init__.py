"""Tests of the dataset sources."""
