"""rigwatch.store."""
