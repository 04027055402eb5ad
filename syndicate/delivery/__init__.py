"""Delivery: an edition becomes one email per reader, queued in the outbox and drained to a mailer."""
