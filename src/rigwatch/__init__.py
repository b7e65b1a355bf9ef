"""rigwatch: self-hosted monitoring and management for mining farms."""

__version__ = "0.1.0"
