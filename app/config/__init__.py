"""Component configurations: the typed model, validation, persistence, import and export."""
