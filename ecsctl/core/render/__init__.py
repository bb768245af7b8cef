"""Manifests rendered into other systems' objects (``ecsctl render``): pure translations."""
