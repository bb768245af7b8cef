"""The state kept in S3: conditional uploads, a lock that a second writer respects, versions as
backups, and the same serial / lineage / stale-plan rules as the local file."""

from __future__ import annotations

import json

import pytest

from ecsctl.cli.app import app
from ecsctl.errors import StateError

BUCKET = "acme-ecsctl"
URL = f"s3://{BUCKET}/prod/state.db"


@pytest.fixture
def bucket(clients):
    s3 = clients("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3


def store(**kwargs):
    from ecsctl.storage.s3_state import S3StateStore

    return S3StateStore(URL, **kwargs)


def test_each_commit_is_uploaded_as_a_new_version(bucket):
    with store() as a, a.locked("test"):
        with a.transaction():
            a.put_resource("taskdef/web", "TaskDefinition", "web", {"family": "web"})
        a.put_resource("taskdef/api", "TaskDefinition", "api", {"family": "api"})  # outside a transaction too
        lineage = a.meta().lineage
    versions = bucket.list_object_versions(Bucket=BUCKET, Prefix="prod/state.db")["Versions"]
    assert len([v for v in versions if v["Key"] == "prod/state.db"]) == 2
    with store(create=False) as reader:
        assert reader.meta().serial == 2 and reader.meta().lineage == lineage
        assert [r.address for r in reader.resources()] == ["taskdef/api", "taskdef/web"]
    assert "prod/state.db.lock" not in {o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_a_second_writer_is_refused_naming_the_holder_then_serialised(bucket):
    """Two machines (two caches): B is refused while A holds the lock, and after A releases it
    B works on A's state, not on the copy it downloaded before."""
    a, b = store(), store()
    try:
        info = a.acquire_lock("ecsctl apply -f prod/")
        with pytest.raises(StateError) as refused:
            b.acquire_lock("ecsctl apply -f prod/")
        message = str(refused.value)
        assert f"lock {info.id} held by pid {info.pid} on {info.host} ('ecsctl apply -f prod/')" in message
        assert f"ecsctl state unlock {info.id} --state {URL}" in message
        with pytest.raises(StateError, match="state is locked"):
            with b.transaction():  # a store without the lock may not write while another holds it
                b.put_resource("service/prod/x", "Service", "x", {})
        with a.transaction():
            a.put_resource("service/prod/web", "Service", "web", {"desiredCount": 3})
        a.release_lock(info.id)
        with b.locked("ecsctl apply"):
            assert b.get_resource("service/prod/web").spec == {"desiredCount": 3}  # fresh after locking
            with b.transaction():
                b.put_resource("service/prod/worker", "Service", "worker", {"desiredCount": 6})
    finally:
        a.close()
        b.close()
    with store(create=False) as c:
        assert c.meta().serial == 2
        assert [r.address for r in c.resources()] == ["service/prod/web", "service/prod/worker"]


def test_a_writer_that_ignores_the_lock_is_detected_by_the_conditional_write(bucket):
    a = store()
    b = store()
    try:
        with a.transaction():
            a.put_resource("taskdef/web", "TaskDefinition", "web", {})
        with pytest.raises(StateError, match="another writer changed the state since ecsctl read it") as exc:
            with b.transaction():  # b downloaded before a wrote: its upload must not overwrite a's
                b.put_resource("taskdef/api", "TaskDefinition", "api", {})
        assert "was NOT uploaded" in str(exc.value)
    finally:
        a.close()
        b.close()
    with store(create=False) as c:
        assert [r.address for r in c.resources()] == ["taskdef/web"]


def test_force_unlock_needs_the_lock_id(bucket):
    a = store()
    info = a.acquire_lock("ecsctl apply")
    with store() as b:
        with pytest.raises(StateError, match="does not match the lock held"):
            b.force_unlock("not-the-id")
        assert b.force_unlock(info.id).id == info.id
        with b.locked("ecsctl apply"):
            pass
    a.close()  # its lock was broken: closing does not delete anyone else's


def test_unversioned_bucket_is_refused_before_writing(clients, monkeypatch):
    s3 = clients("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with store() as a:
        with pytest.raises(StateError, match="does not keep object versions"):
            a.put_resource("taskdef/web", "TaskDefinition", "web", {})
    with store() as a:  # a writer locks first: refused there, before it changes anything in AWS
        with pytest.raises(StateError, match="does not keep object versions"):
            a.acquire_lock("ecsctl apply")
        assert a.lock_info() is None
    monkeypatch.setenv("ECSCTL_STATE_S3_UNVERSIONED", "1")
    with store() as a:
        a.put_resource("taskdef/web", "TaskDefinition", "web", {})


def test_cli_apply_plan_and_stale_plan_through_an_s3_state(runner, bucket, minimal_taskdef, tmp_path):
    """The local backend with its state in S3: the same serial and stale-plan rules."""
    saved = tmp_path / "plan.json"
    made = runner.invoke(app, ["plan", "-f", str(minimal_taskdef), "--state", URL, "--out", str(saved)])
    assert made.exit_code == 0, made.output
    applied = runner.invoke(app, ["apply", "-f", str(minimal_taskdef), "--state", URL, "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    stale = runner.invoke(app, ["apply", str(saved), "--state", URL, "--auto-approve"])
    assert stale.exit_code == 1 and "the plan was made against an empty state" in stale.stderr
    again = runner.invoke(app, ["plan", "-f", str(minimal_taskdef), "--detailed-exitcode"], env={"ECSCTL_STATE": URL})
    assert again.exit_code == 0, again.output
    pulled = json.loads(runner.invoke(app, ["state", "pull", "--state", URL]).stdout)
    assert [r["address"] for r in pulled["resources"]] == ["taskdef/web"]


def test_a_missing_state_object_is_no_state_yet(runner, bucket):
    """As for a local path (the CLI contract): a read command says there is no state, exit 1."""
    listed = runner.invoke(app, ["get", "services", "--state", URL, "-o", "json"])
    assert listed.exit_code == 1 and listed.stdout == ""
    assert f"no state at {URL}" in listed.stderr and "run apply first" in listed.stderr


def test_an_unreachable_endpoint_is_one_line_not_an_internal_error(runner, monkeypatch):
    """DESIGN §8: never exit 3 for a user's mistake; an S3 endpoint nobody listens on is one."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for args in (["get", "services"], ["state", "pull"]):
        result = runner.invoke(app, [*args, "--state", URL])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert result.stderr == f'error: {URL}: cannot reach S3 (Could not connect to the endpoint URL: ' \
                                f'"http://127.0.0.1:{port}/{BUCKET}/prod/state.db")\n'


def test_a_refused_push_names_the_s3_object_not_the_local_copy(runner, bucket, tmp_path):
    """The S3 state is read through a private temporary copy; its errors name what the user gave."""
    with store() as s:
        s.put_resource("parameter/db", "Parameter", "db", {"type": "String"})
        older = s.export()
        s.put_resource("parameter/other", "Parameter", "other", {"type": "String"})
    pushed = tmp_path / "older.json"
    pushed.write_text(json.dumps(older))
    result = runner.invoke(app, ["state", "push", str(pushed), "--state", URL])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {URL}: refusing to push: the pushed state has serial "), result.stderr
    assert "ecsctl-s3-state" not in result.stderr and "/tmp/" not in result.stderr


def test_the_scheme_in_capitals_is_s3_not_a_local_folder(runner, bucket, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    listed = runner.invoke(app, ["get", "services", "--state", URL.replace("s3://", "S3://")])
    assert listed.exit_code == 1 and f"no state at {URL}" in listed.stderr
    assert not (tmp_path / "S3:").exists()


def test_the_s3_state_reaches_s3_as_the_command_says(runner, bucket, aws_env, minimal_taskdef, monkeypatch):
    """--endpoint-url (and --profile, --region) of a --backend aws command reach the S3 state too,
    not only the ECS calls (a helper's trial: the state went to the environment's S3)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    args = ["--backend", "aws", "--region", "eu-west-1", "--endpoint-url", aws_env, "--state", URL]
    applied = runner.invoke(app, ["apply", "-f", str(minimal_taskdef), "--auto-approve", *args])
    assert applied.exit_code == 0, applied.output
    assert bucket.head_object(Bucket=BUCKET, Key="prod/state.db")["ContentLength"] > 0
    again = runner.invoke(app, ["plan", "-f", str(minimal_taskdef), "--detailed-exitcode", *args])
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize("given", [["--endpoint-url", "127.0.0.1:5321"], []])
def test_an_endpoint_without_a_scheme_is_one_line(runner, aws_env, minimal_taskdef, monkeypatch, given):
    """botocore's 'Invalid endpoint' was an internal error, exit 3 (DESIGN §8: never for a user's mistake)."""
    if not given:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:5321")
    result = runner.invoke(app, ["plan", "-f", str(minimal_taskdef), "--backend", "aws", *given])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: the endpoint ") and "is not a URL such as http://localhost:4566" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bucket_that_does_not_exist_is_said_by_readers_too(runner, aws_env, minimal_taskdef):
    """A mistyped bucket read as 'no state yet' made plan call what AWS runs unmanaged and advise
    --adopt (a helper's trial); apply already said the bucket does not exist."""
    result = runner.invoke(app, ["plan", "-f", str(minimal_taskdef), "--state", "s3://no-such-bucket/x/state.db"])
    assert result.exit_code == 1
    assert result.stderr == "error: s3://no-such-bucket/x/state.db: the bucket no-such-bucket does not exist\n"
