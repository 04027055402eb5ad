"""Readers: subscribers' lifecycle, their lists in and out, and who reads the feeds."""
