"""Rules for hygiene."""
