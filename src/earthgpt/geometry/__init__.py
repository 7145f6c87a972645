"""Boxes of every kind, their normalisation, text form, format converters and IoU."""

from earthgpt.geometry.boxes import HBB, OBB, Box, LabeledBox

__all__ = ["HBB", "OBB", "Box", "LabeledBox"]
