"""Intake: articles arrive here, from files and exports (importers) or from feeds and folders (sources)."""
