"""Tests of the EarthGPT model package."""
