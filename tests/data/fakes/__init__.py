"""Fake files in each dataset's exact on-disk format, one module per source."""
