"""Rules for security groups and what they let through (E8xxx, W8xxx)."""
