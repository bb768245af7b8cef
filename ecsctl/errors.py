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
    pass


class StateError(EcsctlError):
    pass
