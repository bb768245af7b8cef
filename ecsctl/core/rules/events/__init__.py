"""Rules for events."""
