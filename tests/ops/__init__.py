"""Tests of issue 21: metrics, error reports and liveness of the background work."""
