"""Adapters that persist state: the SQLite state file implements ``ecsctl.core.state.StateStore``."""

from ecsctl.storage.sqlite_store import SCHEMA_VERSION, SqliteStateStore

__all__ = ["SCHEMA_VERSION", "SqliteStateStore"]
