"""rigwatch.commander."""
