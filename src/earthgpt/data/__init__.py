"""The data path: sources (datasets -> records), instructions (records -> conversations), tokens, batches."""
