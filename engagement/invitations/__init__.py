"""Invitation emails: composing them (emails.py) and the Celery tasks that send them (tasks.py)."""
