"""Notifications: a transactional outbox and a worker that delivers each message once."""
