"""Rules for scaling."""
