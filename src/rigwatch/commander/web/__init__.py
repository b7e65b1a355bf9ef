"""rigwatch.commander.web."""
