"""The one training loop of every neural model kind: batching, losses, data-parallel helpers."""
