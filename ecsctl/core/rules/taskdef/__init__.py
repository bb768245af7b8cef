"""Rules for taskdef."""
