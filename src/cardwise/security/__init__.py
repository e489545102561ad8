"""Who is calling: the principal of a request (authentication itself lives in front of the app for now)."""
