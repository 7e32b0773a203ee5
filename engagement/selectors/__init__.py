"""Reads that matter: what a user may see (visibility) and how lists are ordered."""
