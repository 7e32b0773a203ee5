"""API plumbing shared by every app: pagination, parsers, fields, exceptions, health and meta."""
