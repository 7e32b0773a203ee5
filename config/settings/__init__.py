"""Settings split by environment: base, dev (make run), test (pytest) and prod."""
