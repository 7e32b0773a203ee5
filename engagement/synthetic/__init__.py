"""Synthetic data at benchmark scale: realistic couples written with bulk inserts."""
