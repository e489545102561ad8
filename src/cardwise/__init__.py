"""cardwise: a customer-data and AI platform for card issuers."""

__version__ = "0.1.0"
