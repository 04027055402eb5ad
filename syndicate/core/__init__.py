"""The small core every stage uses: settings, errors, the store, the clock, files, logs, tokens, templates."""
