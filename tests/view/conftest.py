"""Fixtures for ``ecsctl view``: the example stack applied to a temp state, a plan of it whose
rolling deployment stalls, and headless Chromium to render pages in.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it); where it is missing the
tests that need it skip, saying so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.view.viewkit import MANIFESTS, Chromium, Stalled, cli, make_stalled


@pytest.fixture(scope="session")
def example_state(tmp_path_factory) -> Path:
    """The example stack (``manifests/``) applied to a fresh state; treat it as read-only."""
    state = tmp_path_factory.mktemp("example") / "state.db"
    cli("apply", "-f", str(MANIFESTS), "--auto-approve", "--state", str(state))
    return state


@pytest.fixture(scope="session")
def stalled(tmp_path_factory, example_state) -> Stalled:
    """The example stack with two idle instances out of service and a plan whose deployment of
    service/prod/worker stalls on RESOURCE:MEMORY (see ``viewkit.make_stalled``)."""
    return make_stalled(tmp_path_factory.mktemp("stalled"), example_state)


# ---------------------------------------------------------------------------------------------
# Headless Chromium


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it): "
                    "the page is not rendered in a browser")
    return Chromium(binary)
