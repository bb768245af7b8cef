"""File names as CI systems want them: relative to the checkout, with forward slashes.

GitHub code scanning and workflow annotations resolve paths against the
repository root, which is the working directory of a CI job; an absolute path
under it would match nothing.  Paths outside it are left absolute.
"""

from __future__ import annotations

import os


def ci_path(file: str) -> str:
    if os.path.isabs(file):
        try:
            rel = os.path.relpath(file)
        except ValueError:  # another drive on Windows
            rel = file
        if not rel.startswith(".."):
            file = rel
    file = file.replace(os.sep, "/")
    return file[2:] if file.startswith("./") else file
