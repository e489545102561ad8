"""Cross-domain building blocks: domain errors shared by every service."""
