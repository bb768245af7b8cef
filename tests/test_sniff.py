"""Which YAML/JSON files a directory scan takes as manifests (``core.manifest.sniff``)."""

from __future__ import annotations

import pytest

from ecsctl.core.manifest.sniff import foreign


@pytest.mark.parametrize("text", [
    b"apiVersion: ecsctl/v1\nkind: Service\n",
    b"{apiVersion: ecsctl/v1, kind: Cluster}\n",
    b"# comment\n---\napiVersion: ecsctl/v1\nkind: Cluster\nmetadata: {name: x\n",  # broken, still ours
    b"kind: Service\nmetadata: {name: x}\n",  # apiVersion missing: validate says so
    b'{\n  "family": "web",\n  "containerDefinitions": []\n}\n',  # RegisterTaskDefinition JSON
    b'{"taskDefinition": {"family": "x", "containerDefinitions": []}}',  # describe-task-definition output
    b"family: web\ncontainerDefinitions: []\n",
    b"apiVersion: v1\nkind: ConfigMap\n---\napiVersion: ecsctl/v1\nkind: Cluster\n",
    "apiVersion: ecsctl/v1\nkind: Cluster\n".encode("utf-16"),
], ids=["manifest", "flow", "broken", "no-api", "register-json", "describe-json", "register-yaml", "mixed", "utf-16"])
def test_ours(text) -> None:
    assert foreign(text) is None


@pytest.mark.parametrize("api", ["ecsctl.io/v1", "ecsctI/v1", "ecsclt/v1", "Ecsctl/v1", "ecctl/v1", "ecsctll/v1",
                                 "ecsct/v1", "ecsctl1/v1", "ecsxtl/v1"])
def test_a_mistyped_api_version_of_ours_is_read_not_skipped(api) -> None:
    assert foreign(f"apiVersion: {api}\nkind: Service\nmetadata: {{name: web}}\n".encode()) is None


@pytest.mark.parametrize("api", ["ecsctl.acme.io/v1", "eksctl.io/v1alpha5", "ecs-cli/v1", "ecscli/v1", "ecs/v1",
                                 "cdk8s/v1", "ecsctl.io.example/v1"])
def test_someone_elses_api_version_near_ours_is_skipped(api) -> None:
    """A domain group is its owner's (only ecsctl.io is ours); a dot-free one two typos away is another tool's."""
    assert foreign(f"apiVersion: {api}\nkind: Service\n".encode()) == f"a manifest of apiVersion {api}"


@pytest.mark.parametrize("api, kind, ours", [
    ("ecs/v1", "TaskDefinition", True), ("v1", "ScheduledTask", True), ("ECS/v1", "CapacityProvider", True),
    ("v1", "Service", False), ("v1", "Secret", False),         # Kubernetes core kinds: theirs
    ("apps/v1", "Deployment", False),                             # not a kind of ours
    ("apps/v1", "CapacityProvider", False),                       # only ecs/ and a bare version are read as ours
    ("ecs.services.k8s.aws/v1alpha1", "TaskDefinition", False),   # a custom resource (ACK): a domain group
])
def test_a_kind_only_ecsctl_has_under_a_builtin_api_group_is_ours_mistyped(api, kind, ours) -> None:
    """Kubernetes' built-in groups are dot-free and custom resources' groups are domains, so
    ``ecs/v1`` on a TaskDefinition is ours with a typo: read (validate says E0012), not skipped."""
    text = f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: web}}\n".encode()
    assert (foreign(text) is None) is ours


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: db}\n---\napiVersion: postgresql.cnpg.io/v1\nkind: Cluster\n",
    "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: ecs.services.k8s.aws/v1alpha1\nkind: TaskDefinition\n",
    '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "sqs.services.k8s.aws/v1", "kind": "Queue"}]}',
])
def test_a_later_or_nested_kind_of_another_api_is_not_read_as_ours(text) -> None:
    """Kubernetes files that start with a ``v1`` document: their later or nested kinds named like
    ours (CloudNativePG's Cluster, ACK's TaskDefinition and Queue) are someone else's."""
    assert foreign(text.encode()) == "a manifest of apiVersion v1"


@pytest.mark.parametrize("text, what", [
    (b"name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n", "a GitHub Actions workflow"),
    (b"repos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n", "a pre-commit configuration"),
    (b"services:\n  web:\n    image: nginx\n", "a docker-compose file"),
    (b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n", "a manifest of apiVersion apps/v1"),
    (b"apiVersion: ecs.services.k8s.aws/v1alpha1\nkind: Service\n", "a manifest of apiVersion ecs.services.k8s.aws/v1alpha1"),
    (b"stages: [build]\n", "a GitLab CI configuration"),
    (b"", "no apiVersion, kind or family in it"),
    (b"- hosts: all\n  tasks: []\n", "no apiVersion, kind or family in it"),
    (b"jobs:\n  x:\n    steps:\n      - with: {family: not-top-level}\n", "a GitHub Actions workflow"),
    # ecsctl plan --out: every kind and field is in it, the marker it starts with tells it apart
    (b'{\n  "$comment": "ecsctl saved plan: apply it with ecsctl apply FILE",\n  "changes": [{"kind": "TaskDefinition",'
     b' "after": {"family": "web", "containerDefinitions": []}}]', "an ecsctl saved plan"),
])
def test_foreign(text, what) -> None:
    assert foreign(text) == what
