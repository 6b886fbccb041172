"""Moorings GUI: all Qt lives here."""
