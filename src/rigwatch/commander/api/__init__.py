"""rigwatch.commander.api."""
