"""Serving: the OpenAI-compatible chat API and the web page over one Predictor."""
