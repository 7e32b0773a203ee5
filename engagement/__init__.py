"""Engagement: couples, invitations, sessions, commitments, check-ins, reports and digests."""
