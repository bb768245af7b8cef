"""The worked examples in the scaling modules' docstrings run as tests."""

import doctest

import pytest

from ecsctl.core.scaling import (activities, adjustments, capacity, demand, engine, levels, model, schedules,
                                 snapshot, target_tracking)


@pytest.mark.parametrize("module", [activities, adjustments, capacity, demand, engine, levels, model, schedules,
                                    snapshot, target_tracking],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
