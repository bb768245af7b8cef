"""The example stack applied to moto through ``--backend aws``, read back with boto3, changed, re-planned."""

from __future__ import annotations

import json

import pytest

from ecsctl.cli.app import app

REGION = "eu-west-1"


def run(runner, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def aws_args(endpoint):
    return ["--backend", "aws", "--region", REGION, "--endpoint-url", endpoint]


@pytest.fixture
def state(tmp_path):
    return str(tmp_path / "state" / "state.db")


def test_apply_read_back_change_and_replan(runner, aws_env, aws_stack, clients, state):
    result = run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve", *aws_args(aws_env))
    assert result.exit_code == 0, result.output
    ecs = clients("ecs")
    services = ecs.describe_services(cluster="prod", services=["web", "worker"])["services"]
    assert {s["serviceName"]: s["desiredCount"] for s in services} == {"web": 3, "worker": 6}
    again = run(runner, "plan", "-f", str(aws_stack), "--state", state, "--detailed-exitcode", *aws_args(aws_env))
    assert again.exit_code == 0, again.output


def test_debug_output(runner, aws_env, aws_stack, clients, state):
    result = run(runner, "apply", "-f", str(aws_stack), "--state", state, "--auto-approve", *aws_args(aws_env))
    print(result.output)
    again = run(runner, "plan", "-f", str(aws_stack), "--state", state, *aws_args(aws_env))
    print(again.output)
    assert 0
