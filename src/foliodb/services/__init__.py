"""Use cases: load, compute, store. The edges (CLI, Python API) call only these."""
