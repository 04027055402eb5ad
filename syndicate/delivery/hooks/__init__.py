"""Outbound webhooks: events fanned out to the configured receivers (``queue``),
signed per Standard Webhooks and posted (``send``), by a worker loop (``drain``)."""
