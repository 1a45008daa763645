"""triage: answer support questions from Scaling API access logs, with DuckDB doing the work."""

__version__ = "0.1.0"
