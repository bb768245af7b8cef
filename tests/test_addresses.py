"""Plan addresses: ``KIND/NAME``, ``service/CLUSTER/NAME``, names with slashes quoted."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ecsctl.core.manifest.envelope import NAME_RE, PATH_NAME_RE
from ecsctl.core.plan.model import PREFIX, address, parse_address, service_key


@pytest.mark.parametrize("kind, name, spec, want", [
    ("TaskDefinition", "web", None, "taskdef/web"),
    ("Service", "web", {"cluster": "prod"}, "service/prod/web"),
    ("Service", "web", {"cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"}, "service/prod/web"),
    ("Service", "web", {}, "service/default/web"),
    ("Parameter", "/prod/web/db-host", None, 'parameter/"/prod/web/db-host"'),
    ("Parameter", "db-host", None, "parameter/db-host"),
    ("Secret", "prod/web/db", None, 'secret/"prod/web/db"'),
    ("Repository", "team/api", None, 'repository/"team/api"'),
    ("EnvironmentFile", "web-env", None, "envfile/web-env"),
])
def test_address(kind, name, spec, want) -> None:
    assert address(kind, name, spec) == want
    assert parse_address(want)[:2] == (kind, name)
    assert want.split("/", 1)[0] == PREFIX[kind]  # the kind is always what comes before the first slash


@pytest.mark.parametrize("text", ["", "taskdef", "taskdef/", "nope/x", "service/prod", "service/prod/a/b", 'parameter/"unterminated'])
def test_parse_address_refuses(text) -> None:
    with pytest.raises(ValueError):
        parse_address(text)


def test_service_key() -> None:
    assert service_key("service/prod/web") == ("prod", "web")
    with pytest.raises(ValueError):
        service_key("taskdef/web")


@given(kind=st.sampled_from(["Parameter", "Secret", "Repository", "EnvironmentFile"]),
       name=st.from_regex(PATH_NAME_RE, fullmatch=True))
def test_path_names_round_trip(kind, name) -> None:
    addr = address(kind, name)
    assert parse_address(addr) == (kind, name, None)
    rest = addr.split("/", 1)[1]
    assert "/" not in rest or (rest.startswith('"') and rest.endswith('"'))  # every bare "/" separates parts


@given(kind=st.sampled_from(["Cluster", "TaskDefinition", "TargetGroup", "ScheduledTask", "CapacityProvider"]),
       name=st.from_regex(NAME_RE, fullmatch=True))
def test_plain_names_are_not_quoted(kind, name) -> None:
    assert address(kind, name) == f"{PREFIX[kind]}/{name}"
    assert parse_address(address(kind, name)) == (kind, name, None)
