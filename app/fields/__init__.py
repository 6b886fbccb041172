"""Parsers for the text syntaxes of configuration fields, one module per kind of value."""
