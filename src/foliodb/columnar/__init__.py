"""Column containers shared by `store` and `ingest`: numpy arrays, no I/O, no parsing.

Its own layer between those packages and `domain`, which may not use numpy.
"""
