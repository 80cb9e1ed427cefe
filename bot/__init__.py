"""Briefbot: grounded, structured briefs of articles, posted to Slack threads."""

__version__ = "0.1.0"
