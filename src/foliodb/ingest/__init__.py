"""Parsers that turn files into domain objects, with every problem reported at once."""
