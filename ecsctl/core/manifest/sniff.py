"""Is a YAML/JSON file one of ours?  A cheap look at its text, before it is parsed.

A repository holds YAML that is not for ecsctl: GitHub workflows, ``.pre-commit-config.yaml``,
docker-compose files, Kubernetes manifests, CI configuration.  When ecsctl scans a directory
(or runs as a pre-commit hook), such files are skipped with a note instead of failing the run.

A file is ours when its text has a marker of a manifest or of a task definition:

* ``apiVersion: ecsctl/…`` anywhere (an ecsctl manifest, however broken the rest is);
* a top-level ``kind:`` without any ``apiVersion:`` (a manifest missing its apiVersion, which
  validate reports);
* a top-level ``family:``, ``containerDefinitions:`` or ``taskDefinition:`` (a bare
  RegisterTaskDefinition request or describe-task-definition output), in YAML or JSON.

Anything else cannot be a valid manifest, so skipping it loses nothing.  A file with an
``apiVersion`` that is not ecsctl's (``v1``, ``apps/v1``) is someone else's manifest, unless
it is ecsctl's mistyped (``ecsctl.io/v1``, ``ecsctI/v1``, or ``ecs/v1`` and ``v1`` on a kind
only ecsctl has, such as ``TaskDefinition``): that one is read, and validate reports the apiVersion, rather
than skipping the file and planning its resources' deletion.  Broken
text (not UTF-8, a tab in the indentation) is judged by the markers it still shows; UTF-16
with a byte-order mark is read as such.
"""

from __future__ import annotations

import re

from ecsctl.core.manifest.envelope import KINDS

HEAD_BYTES = 64 * 1024  # markers sit in the first lines of a document


def _key(names: str) -> str:
    """A key: unquoted at the start of a line, or of a flow mapping that starts one (YAML), or
    quoted anywhere (JSON); not a key nested in a flow mapping (``with: {family: x}``)."""
    return rf"""(?m)(?:^(?:\{{\s*)?(?:{names})|["'](?:{names})["'])\s*:"""


_ECSCTL_API = re.compile(_key("apiVersion") + r"""\s*["']?ecsctl/""")
_ANY_API = re.compile(_key("apiVersion") + r"""\s*["']?([^\s"',}]+)""")
_KIND = re.compile(_key("kind"))
_KIND_VALUE = re.compile(_key("kind") + r"""\s*["']?([A-Za-z]+)""")
# ecsctl's kinds that no built-in Kubernetes API group has (a ``v1`` Service or Secret is theirs)
_OURS_ONLY = frozenset(KINDS) - {"Service", "Secret"}
_TASKDEF = re.compile(_key("family|containerDefinitions|taskDefinition"))

# A plan saved by ``ecsctl plan --out`` (``app.planfile``): its JSON holds every manifest kind and
# field, so it is told apart by the marker it starts with (keys are written sorted, "$" first).
SAVED_PLAN_MARKER = "ecsctl saved plan"
_SAVED_PLAN = re.compile(r'\A\s*\{\s*"\$comment"\s*:\s*"' + SAVED_PLAN_MARKER)

# What the commonest other YAML files are, by their top-level keys, for the note.
_KNOWN = (
    ("a GitHub Actions workflow", re.compile(r"(?m)^jobs\s*:")),
    ("a pre-commit configuration", re.compile(r"(?m)^repos\s*:")),
    ("a docker-compose file", re.compile(r"(?m)^services\s*:")),
    ("a GitLab CI configuration", re.compile(r"(?m)^stages\s*:")),
)


def _near_ours(api: str) -> bool:
    """``ecsctl.io/v1``, ``ecsctI/v1``, ``ecsclt/v1``: an apiVersion that means ecsctl's, mistyped
    (skipped as someone else's, its file's resources would be planned for deletion). A group with
    a dot is a domain, someone else's (``ecsctl.acme.io``, ``eksctl.io``), unless it is
    ``ecsctl.io``; a dot-free one is ours when it starts with ``ecsctl`` or is one typo away
    (``ecs-cli`` and ``ecscli``, two away, are other tools')."""
    group = api.split("/", 1)[0].lower()
    if "." in group:
        return group == "ecsctl.io"
    return group.startswith("ecsctl") or _one_typo("ecsctl", group)


_BARE_VERSION = re.compile(r"v\d+\w*")


def _our_kind(api: str, text: str) -> bool:
    """``apiVersion: ecs/v1`` or ``v1`` on ``kind: TaskDefinition`` (the file's first apiVersion and
    its first kind, one document's): no built-in Kubernetes API has such a kind, and a custom
    resource's group is a domain (``ecs.services.k8s.aws``), so it is ecsctl's manifest with the
    apiVersion mistyped.  A later document's kind (a ``v1`` Namespace, then a CloudNativePG
    ``Cluster``) or a nested one (a ``kubectl get -o json`` List) says nothing about the first."""
    group, _, version = api.rpartition("/")
    if group.lower() not in ("", "ecs") or not _BARE_VERSION.fullmatch(version):
        return False
    kind = _KIND_VALUE.search(text)
    return kind is not None and kind.group(1) in _OURS_ONLY


def _one_typo(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with at most one letter added, dropped, changed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1:
        return False
    start = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    tail_a, tail_b = a[start:], b[start:]
    return (tail_a[1:] == tail_b[1:] or tail_a == tail_b[1:] or tail_a[1:] == tail_b
            or (len(tail_a) > 1 and tail_a[:2] == tail_b[1::-1] and tail_a[2:] == tail_b[2:]))


def foreign(head: bytes) -> str | None:
    """``None`` when ``head`` (the start of a file) may be an ecsctl manifest or task definition;
    otherwise what the file seems to be instead, for the note that skips it."""
    encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    text = head.decode(encoding, errors="replace")
    if _SAVED_PLAN.match(text):
        return "an ecsctl saved plan"
    if _ECSCTL_API.search(text) or _TASKDEF.search(text):
        return None
    other = _ANY_API.search(text)
    if other and not _near_ours(other.group(1)) and not _our_kind(other.group(1), text):
        return f"a manifest of apiVersion {other.group(1)}"
    if other:
        return None  # a mistyped apiVersion of ours: validate reports it (E0012), nothing is skipped
    if _KIND.search(text):
        return None
    for what, pattern in _KNOWN:
        if pattern.search(text):
            return what
    return "no apiVersion, kind or family in it"
