"""HTTP API of engagement: serializers, viewsets, permissions, filters and routes."""
