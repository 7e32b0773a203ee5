"""What a user may ask of their own data: the export and the erasure (docs/privacy.md).

Both reach across couples and accounts, so they live here and accounts stays a leaf app."""
