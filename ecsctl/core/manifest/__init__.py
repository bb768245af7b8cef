"""Manifest documents: loading with source positions, the envelope, schema checks."""
