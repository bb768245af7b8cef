"""One list of what looks sensitive, shared by W7001, the plan's masking and the state's digests."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ecsctl.app.validate import Validator
from ecsctl.cli.render.plan import render_plan_text
from ecsctl.core.normalize import canonical
from ecsctl.core.plan.codec import mask_value, plan_json_view
from ecsctl.core.plan.diff import diff
from ecsctl.core.plan.model import Desired, Plan
from ecsctl.core.sensitive import (
    SENSITIVE,
    Sealer,
    SealedSpec,
    find_sensitive,
    is_digest,
    mask,
    sealer_of,
    sensitive_name,
)

SEALER = Sealer(b"k" * 32)


def container(**fields) -> dict:
    return {"name": "web", "image": "nginx:1.27", "memory": 512, **fields}


def taskdef(**fields) -> dict:
    return {"family": "web", "containerDefinitions": [container(**fields)]}


# Each place the issue found the plan missing, with the value it must hide.
MISSED = [
    ("DB_PASSWD", taskdef(environment=[{"name": "DB_PASSWD", "value": "hunter2"}]), "hunter2"),
    ("MYSQL_PWD", taskdef(environment=[{"name": "MYSQL_PWD", "value": "hunter2"}]), "hunter2"),
    ("DATABASE_URL", taskdef(environment=[{"name": "DATABASE_URL", "value": "postgres://app:hunter2@db:5432/app"}]), "hunter2"),
    ("--db-password X", taskdef(command=["serve", "--db-password", "hunter2"]), "hunter2"),
    ("--db-password=X", taskdef(command=["serve", "--db-password=hunter2"]), "hunter2"),
    ("shell", taskdef(command=["sh", "-c", "mysql --password=hunter2 -h db"]), "hunter2"),
    # curl's -u/--user (wget's --user) take user:password; the commonest form in a health check
    ("curl -u in a shell", taskdef(healthCheck={"command": ["CMD-SHELL", "curl -u admin:hunter2 http://localhost/ || exit 1"]}),
     "admin:hunter2"),
    ("curl -u X", taskdef(command=["curl", "-u", "admin:hunter2", "http://localhost/"]), "admin:hunter2"),
    ("curl --user=X", taskdef(command=["curl", "--user=admin:hunter2", "http://localhost/"]), "--user=admin:hunter2"),
    ("curl -fsSu X", taskdef(command=["CMD", "curl", "-fsSu", "admin:hunter2", "http://localhost/"]), "admin:hunter2"),
    ("curl -uX", taskdef(command=["curl", "-uadmin:hunter2", "http://localhost/"]), "-uadmin:hunter2"),
    # MySQL's clients take the password attached to -p
    ("mysql -pX in a shell", taskdef(command=["sh", "-c", "mysql -u root -phunter2 db < /init.sql"]), "hunter2"),
    ("mysqldump -pX", taskdef(command=["mysqldump", "-u", "root", "-phunter2", "db"]), "-phunter2"),
    # tokens that say what they are, a password in a URL's query, an Authorization header
    ("GitHub token", taskdef(environment=[{"name": "GH", "value": "ghp_" + "a1B2" * 9}]), "ghp_" + "a1B2" * 9),
    ("Slack webhook", taskdef(environment=[{"name": "SLACK", "value": "https://hooks.slack.com/services/T0001/B0001/hunter2hunter2"}]),
     "hunter2hunter2"),
    ("presigned URL", taskdef(environment=[{"name": "REPORT", "value": "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                                                               "&X-Amz-Signature=hunter2hunter2"}]), "hunter2hunter2"),
    ("env then curl", taskdef(command=["env", "A=1", "curl", "-u", "admin:hunter2", "http://localhost/"]), "admin:hunter2"),
    ("JDBC query password", taskdef(environment=[{"name": "JDBC", "value": "jdbc:mysql://db/x?user=u&password=hunter2"}]), "hunter2"),
    ("Authorization header", taskdef(healthCheck={"command": ["CMD-SHELL", "curl -H 'Authorization: Bearer hunter2hunter2' "
                                                              "http://localhost/ || exit 1"]}), "hunter2hunter2"),
    ("dockerLabels.password", taskdef(dockerLabels={"password": "hunter2", "team": "web"}), "hunter2"),
    ("splunk-token", taskdef(logConfiguration={"logDriver": "splunk", "options": {"splunk-token": "hunter2", "splunk-url": "https://splunk:8088"}}), "hunter2"),
    ("tag", {"tags": [{"key": "api-token", "value": "hunter2"}]}, "hunter2"),
    ("access key anywhere", {"description": "uses AKIAIOSFODNN7EXAMPLE"}, "AKIAIOSFODNN7EXAMPLE"),
    # a scheduled task's target: EventBridge's input template (JSON in a string, with placeholders)
    ("inputTemplate", {"target": {"inputTransformer": {"inputPathsMap": {"key": "$.detail.object.key"}, "inputTemplate":
        '{"containerOverrides": [{"name": "job", "environment": [{"name": "S3_KEY", "value": <key>}, '
        '{"name": "API_TOKEN", "value": "hunter2-template"}]}]}'}}}, "hunter2-template"),
    ("inputTemplate value first", {"target": {"inputTransformer": {"inputTemplate":
        '{"containerOverrides": [{"environment": [{"value": "hunter2", "name": "DB_PASSWORD"}]}]}'}}}, "hunter2"),
]


@pytest.mark.parametrize("case, spec, secret", MISSED, ids=[m[0] for m in MISSED])
def test_every_missed_place_is_found_masked_and_sealed(case, spec, secret) -> None:
    assert find_sensitive(spec), case
    assert secret not in json.dumps(mask(spec))
    sealed = SEALER.seal(spec)
    assert secret not in json.dumps(sealed)
    assert SEALER.seal(sealed) == sealed  # digests stay as they are


@pytest.mark.parametrize(
    "name, sensitive",
    [
        ("DB_PASSWORD", True), ("DB_PASSWD", True), ("MYSQL_PWD", True), ("REDIS_PASS", True), ("GPG_PASSPHRASE", True),
        ("GITHUB_TOKEN", True), ("STRIPE_API_KEY", True), ("SENDGRID_APIKEY", True), ("AWS_SECRET_ACCESS_KEY", True),
        ("splunk-token", True), ("password", True), ("com.example.db-password", True), ("KEY", True),
        ("JWT_SIGNING_KEY", True), ("GOOGLE_CREDENTIALS", True), ("BASIC_AUTH", True),
        ("PWD", False), ("LOG_LEVEL", False), ("DB_PASSWORD_ARN", False), ("TOKEN_FILE", False), ("AUTH_URL", False),
        ("splunk-url", False), ("log_key", False), ("tag_key", False), ("PASSENGER_COUNT", False), ("SORT_KEY", False),
    ],
)
def test_sensitive_names(name, sensitive) -> None:
    assert sensitive_name(name) is sensitive


def test_references_and_plain_values_are_not_sensitive() -> None:
    spec = taskdef(
        environment=[{"name": "LOG_LEVEL", "value": "debug"}, {"name": "QUEUE_URL", "value": "https://sqs.eu-west-1.amazonaws.com/1/q"}],
        secrets=[{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"}],
        repositoryCredentials={"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hub"},
        command=["python", "-m", "report", "--period", "yesterday"],
        dockerLabels={"ECS_PROMETHEUS_EXPORTER_PORT": "9102"},
        # -u of other programs (a uid:gid, user:group, UTC, a URL), a password by reference, a
        # user alone: no password written out
        entryPoint=["sh", "-c", "docker run -u 1000:1000 img && curl -u admin:$API_PASSWORD http://x && curl -u admin "
                    "http://y && echo started $(date -u +%H:%M) && chpst -u nobody:nogroup true; sort -u /etc/passwd:x"],
        healthCheck={"command": ["CMD-SHELL", "redis-cli -u redis://localhost:6379 ping"]},
        # a query without a password or one by reference, a header from a variable
        links=["https://x/?page=2&sort=name", "curl -H 'Authorization: Bearer $TOKEN' http://x",
               "https://x/?password=${DB_PASSWORD}", "https://api/x?token={token}", "https://a/?token=YOUR_TOKEN",
               "curl -f http://localhost/health?auth=false", "http://x/?pass=1&page=2", "http://x/?a=1&sig=%s"],
    )
    assert find_sensitive(spec) == []
    for args in (["date", "-u", "+%H:%M"], ["docker", "run", "-u", "nginx:nginx", "--user=root:root", "img"],
                 ["sh", "-c", "mysql -u root -p db && mysql -u root -p$MYSQL_PASSWORD db && grep -pattern x"],
                 ["mysql", "-u", "root", "-p", "db"], ["perl", "-pe", "s/a/b/"],
                 # a client's name as a word, not the program: a container name, a host
                 ["docker", "run", "--name", "mysql", "-p3306:3306", "mysql:8"],
                 ["sh", "-c", "wait-for mysql -p3306 -- ./start && docker run --name curl -u 1000:1000 img"]):
        assert find_sensitive(taskdef(command=args)) == [], args
    assert mask(spec) == spec


def test_the_example_manifests_hold_no_sensitive_value() -> None:
    report = Validator().validate(["manifests"])
    assert not [f for f in report.findings if f.rule == "W7001"]


@pytest.mark.parametrize("case, spec, secret", [m for m in MISSED if "containerDefinitions" in m[1]], ids=[m[0] for m in MISSED if "containerDefinitions" in m[1]])
def test_w7001_warns_where_the_plan_masks(tmp_path, case, spec, secret) -> None:
    doc = {"apiVersion": "ecsctl/v1", "kind": "TaskDefinition", "metadata": {"name": "web"}, "spec": spec}
    path = tmp_path / "td.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = Validator().validate([str(path)])
    hits = [f for f in report.findings if f.rule == "W7001"]
    assert len(hits) == 1, (case, report.findings)
    assert secret not in hits[0].message


def test_schema_errors_do_not_echo_a_sensitive_value(tmp_path) -> None:
    doc = {"apiVersion": "ecsctl/v1", "kind": "TaskDefinition", "metadata": {"name": "web"},
           "spec": taskdef(environment=[{"name": "API_KEY", "value": 987654321}], dockerLabels={"password": 31337},
                           command=["serve", "--db-password", 48151623])}
    path = tmp_path / "td.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    messages = [f.message for f in Validator().validate([str(path)]).findings]
    assert len(messages) == 3 and all("not shown: it looks sensitive" in m for m in messages), messages
    assert not any("987654321" in m or "31337" in m or "48151623" in m for m in messages)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_number_out_of_range_is_not_echoed(tmp_path, suffix) -> None:
    """A 30-digit value may be a password: E0017 counts its digits, the position says which it is."""
    path = tmp_path / f"td{suffix}"
    path.write_text('{"apiVersion": "ecsctl/v1", "kind": "TaskDefinition", "metadata": {"name": "web"}, "spec": {"family": "web", '
                    '"containerDefinitions": [{"name": "web", "image": "nginx", "memory": 512, "environment": '
                    '[{"name": "DB_PASSWORD", "value": 123456789012345678901234567890}]}]}}')
    (finding,) = Validator().validate([str(path)]).findings
    assert finding.rule == "E0017" and "123456789" not in finding.message
    assert finding.message.startswith("a number of 30 digits is out of range")


# -- digests ------------------------------------------------------------------------------------


def test_digests_are_keyed_stable_and_tell_a_change() -> None:
    a, b = SEALER.digest("hunter2"), Sealer(b"other-key-000000").digest("hunter2")
    assert is_digest(a) and a.startswith("<sensitive:hmac-sha256:") and a != b
    assert SEALER.digest("hunter2") == a != SEALER.digest("hunter3")
    assert SEALER.digest(12345) != SEALER.digest("12345")
    assert mask({"x": a}) == {"x": SENSITIVE}  # digests are masked for people too


def test_a_sealed_spec_equals_the_plain_spec_it_was_made_from() -> None:
    plain = taskdef(environment=[{"name": "DB_PASSWORD", "value": "hunter2"}])
    stored = SealedSpec(SEALER.seal(plain), SEALER)
    assert stored == plain and plain == stored and not stored != plain
    assert stored != taskdef(environment=[{"name": "DB_PASSWORD", "value": "hunter3"}])
    assert sealer_of(stored) is SEALER and sealer_of(plain) is None
    for clone in (copy.deepcopy(stored), pickle.loads(pickle.dumps(stored))):
        assert clone == plain and sealer_of(clone) is not None


def _diff_against_state(stored_plain: dict, desired: dict):
    stored = SealedSpec(SEALER.seal(canonical("TaskDefinition", "web", stored_plain)), SEALER)
    want = canonical("TaskDefinition", "web", desired)
    (change,) = diff([Desired("taskdef/web", "TaskDefinition", "web", want)], {"taskdef/web": ("TaskDefinition", "web", stored)})
    return change


def test_an_unchanged_secret_plans_no_change_and_a_changed_one_an_update() -> None:
    spec = taskdef(environment=[{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "LOG_LEVEL", "value": "info"}])
    assert _diff_against_state(spec, spec).action == "no-op"

    changed = taskdef(environment=[{"name": "DB_PASSWORD", "value": "hunter3"}, {"name": "LOG_LEVEL", "value": "info"}])
    change = _diff_against_state(spec, changed)
    assert change.action == "update"
    (field,) = change.fields
    assert field.path[-2:] == ("DB_PASSWORD", "value") and is_digest(field.before) and field.after == "hunter3"
    plan = Plan(lineage=None, serial=0, manifests_hash="", changes=[change])
    text = render_plan_text(plan)
    assert "(sensitive value changed)" in text and "hunter3" not in text and "hmac" not in text
    assert "hunter3" not in json.dumps(plan_json_view(plan))

    other = taskdef(environment=[{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "LOG_LEVEL", "value": "debug"}])
    change = _diff_against_state(spec, other)
    assert [f.path[-2] for f in change.fields] == ["LOG_LEVEL"]  # the secret is not a change


secret_values = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30).filter(lambda v: not v.startswith("-"))  # "-x" reads as the next option


@settings(max_examples=60, deadline=None)
@given(old=secret_values, new=secret_values)
def test_diff_against_digests_agrees_with_diff_of_plain_values(old, new) -> None:
    """Whatever the values, a sealed state plans exactly what a plain one would."""
    spec_of = lambda v: taskdef(command=["serve", "--api-token", v], dockerLabels={"password": v})  # noqa: E731
    assume(json.dumps(old) not in json.dumps(spec_of("\x00")))  # a value that is also a key or another value ("image")
    change = _diff_against_state(spec_of(old), spec_of(new))
    assert change.action == ("no-op" if old == new else "update")
    assert json.dumps(old) not in json.dumps(change.before) and json.dumps(old) not in json.dumps(mask_value(change.after))


def test_an_input_template_keeps_its_shape_and_placeholders_when_masked() -> None:
    template = ('{"containerOverrides": [{"name": "job", "environment": [{"name": "S3_KEY", "value": <key>}, '
                '{"name": "API_TOKEN", "value": "hunter2-template"}]}]}')
    masked = mask({"inputTemplate": template})["inputTemplate"]
    assert masked == template.replace("hunter2-template", SENSITIVE)
    sealed = SEALER.seal({"inputTemplate": template})["inputTemplate"]
    assert is_digest(sealed.split('"API_TOKEN", "value": "')[1].split('"')[0])


def test_w7001_warns_on_a_scheduled_tasks_template_and_overrides(tmp_path) -> None:
    template = '{"containerOverrides": [{"name": "job", "environment": [{"name": "API_TOKEN", "value": "hunter2-template"}]}]}'
    doc = {"apiVersion": "ecsctl/v1", "kind": "ScheduledTask", "metadata": {"name": "job"}, "spec": {
        "scheduleExpression": "rate(1 hour)",
        "target": {"cluster": "prod", "taskDefinition": "job", "inputTransformer": {"inputTemplate": template},
                   "overrides": {"containerOverrides": [{"name": "job", "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}]}]}}}}
    path = tmp_path / "job.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    hits = [f for f in Validator().validate([str(path)]).findings if f.rule == "W7001"]
    assert sorted(f.path for f in hits) == [("spec", "target", "inputTransformer", "inputTemplate"),
                                            ("spec", "target", "overrides", "containerOverrides", 0, "environment", 0, "value")]
    assert all("hunter2" not in f.message for f in hits)
