"""Rules for service."""
