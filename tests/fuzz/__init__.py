"""Schemathesis against the live schema (`make fuzz`) and regression tests for what it found."""
