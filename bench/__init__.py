"""Benchmarks: `make bench` measures the weekly run, the API and digests against baselines."""
