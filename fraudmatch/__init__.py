"""fraudmatch: cross-council fraud data matching on pseudonymised extracts."""

__version__ = "0.1.0"
