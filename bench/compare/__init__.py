"""Before-and-after comparisons of issue 20: old and new code, alternating, on one database."""
