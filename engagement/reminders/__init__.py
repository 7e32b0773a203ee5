"""Check-in reminders (SPEC section 6): who is due (planner), exactly once (delivery), beat."""
