"""span."""
