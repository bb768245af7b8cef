"""Machine output: one JSON or YAML document on stdout, the same data either way."""

from __future__ import annotations

import json
import sys
from typing import Any


def dump(data: Any, fmt: str, *, sort_keys: bool = False) -> str:
    """``data`` as one ``json`` or ``yaml`` document (YAML from the JSON form, so both agree)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=sort_keys, default=str)
    if fmt == "json":
        return text + "\n"
    if fmt == "yaml":
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(json.loads(text), Dumper=dumper, sort_keys=sort_keys, allow_unicode=True,
                         default_flow_style=False)
    raise ValueError(f"not a machine format: {fmt}")


def emit(data: Any, fmt: str, *, sort_keys: bool = False) -> None:
    sys.stdout.write(dump(data, fmt, sort_keys=sort_keys))
