"""Logs (L1): service-usage lines, local queries over the JSON log files, and shipping to a search engine."""
