"""``app.lookup``: one identifier, one record, or one line saying why not (exit 1)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ecsctl.app import lookup
from ecsctl.errors import InputError


class Records:
    """A state holding only ``records`` (find/get as the store's, by id)."""

    def __init__(self, *ids: str) -> None:
        self.records = [SimpleNamespace(id=i, cluster="prod") for i in ids]

    def get(self, _type, key):
        return next((r for r in self.records if r.id == key), None)

    def find(self, _type, **where):
        return [r for r in self.records if all(getattr(r, k) == v for k, v in where.items())]


@pytest.mark.parametrize("kind", ["tasks", "instances"])
def test_an_ambiguous_id_prefix_is_an_input_error_naming_how_many(kind) -> None:
    store = Records("abcdef0123", "abcdef4567")
    with pytest.raises(InputError, match=r"id prefix 'abcdef' is ambiguous: it matches 2 ") as err:
        lookup.one(store, kind, "abcdef")
    assert err.value.exit_code == 1  # as "not found": the user named no one record
    assert lookup.one(store, kind, "abcdef4").id == "abcdef4567"


@pytest.mark.parametrize("kind", ["tasks", "instances"])
def test_a_prefix_too_short_says_so(kind) -> None:
    with pytest.raises(InputError, match=r"not found \(an id prefix needs 6 characters or more\)$"):
        lookup.one(Records("abcdef0123"), kind, "abc")
