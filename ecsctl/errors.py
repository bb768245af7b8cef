"""The one exception tree of ecsctl.

    EcsctlError                 anything ecsctl reports as a one-line error
    ├── UsageError              bad command-line input (exit 2)
    ├── InputError              a manifest or file cannot be used (exit 1)
    └── StateError              the state file cannot be used (exit 1)

The CLI's error boundary turns each into one line on stderr and an exit code;
nothing else is allowed to reach the user as a traceback.
"""

from __future__ import annotations


class EcsctlError(Exception):
    exit_code = 1


class UsageError(EcsctlError):
    exit_code = 2


class InputError(EcsctlError):
    """``field``: the spec path of the manifest field the error is about, and ``address`` the
    resource whose manifest it is, when known: the plan then names the file, line and field."""

    field: tuple[str, ...] | None = None
    address: str | None = None

    def __init__(self, message: str = "", *, field: tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field


class StateError(EcsctlError):
    pass
