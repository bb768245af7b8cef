"""Semantic rules beyond the schema: one small unit each, with a stable ID.

ID ranges (never reused):
    E0xxx  loading and the envelope        E1xxx  JSON Schema, one ID per kind
    E2xxx  task definitions                E3xxx  services
    E4xxx  clusters and capacity           E5xxx  auto scaling
    E6xxx  schedules and events            W7xxx  hygiene (warnings)
    E8xxx  networking: security groups
A ``W`` prefix marks a warning.
"""

from __future__ import annotations

import importlib
import pkgutil

from ecsctl.core.rules.base import Rule, registered


def all_rules() -> dict[str, type[Rule]]:
    """Import every rule module (once) and return the catalogue by ID."""
    for pkg_name in ("taskdef", "service", "scaling", "events", "hygiene", "network"):
        pkg = importlib.import_module(f"{__name__}.{pkg_name}")
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
    return dict(sorted(registered().items()))
