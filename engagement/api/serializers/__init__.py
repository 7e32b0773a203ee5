"""Serializers of the engagement API, one module per resource."""
