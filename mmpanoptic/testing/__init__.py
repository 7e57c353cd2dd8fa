"""Helpers for tests and benchmarks that compare mmpanoptic with its references."""
