"""Writes: one service function per domain operation, keyword-only and atomic."""
