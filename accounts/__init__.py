"""Accounts: the user model, sign-up and sign-in, preferences, export and erasure."""
