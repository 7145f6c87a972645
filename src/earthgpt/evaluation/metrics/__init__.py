"""Pure, tested metric functions."""
