"""rigwatch.sim."""
