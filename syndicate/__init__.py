"""syndicate: publish articles as feeds and email digests."""

__version__ = "0.1.0"
