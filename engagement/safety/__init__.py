"""Safety alerts reaching the couple's therapists: the exactly-once ledger, texts and tasks."""
