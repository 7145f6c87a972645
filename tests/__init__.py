"""EarthGPT test suite."""
