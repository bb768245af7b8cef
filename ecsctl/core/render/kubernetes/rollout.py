"""DESIGN §6's rolling-deployment bounds as a Deployment's (or DaemonSet's) rolling update.

ECS keeps ``lower = ceil(D × minimumHealthyPercent / 100)`` tasks healthy and runs at most
``upper = floor(D × maximumPercent / 100)``.  A Deployment keeps at least ``D −
maxUnavailable`` pods available and runs at most ``D + maxSurge``, so for the service's
desired count the absolute values ``maxUnavailable = D − lower`` and ``maxSurge = upper −
D`` give the same floor and ceiling:

    >>> strategy, notes = rolling_update(6, 50, 200)
    >>> dict(strategy["rollingUpdate"])
    {'maxSurge': 6, 'maxUnavailable': 3}

As percentages the two round differently: Kubernetes rounds ``maxUnavailable`` down
(``D − floor(D × (100 − m) / 100)`` equals ECS's ``ceil(D × m / 100)``, the same floor at
every count) but ``maxSurge`` up (``D + ceil(D × (M − 100) / 100)`` is
``ceil(D × M / 100)``, where ECS has ``floor``), so a percentage surge admits one pod more
than ECS whenever ``D × M`` is not a multiple of 100
(https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment).
A DaemonSet rounds a percentage ``maxUnavailable`` up; a daemon service's percentages are of its
instances, so the DaemonSet's is a percentage of the nodes (:func:`daemon_update`).
"""

from __future__ import annotations

from ecsctl.core.deploy.bounds import deployment_bounds
from ecsctl.core.render.kubernetes.yaml_text import Node

SCAN = 1000


def _first_surge_difference(max_pct: int) -> int | None:
    """The smallest replica count at which a ``(M − 100)%`` surge differs from ECS's floor, if any."""
    return next((d for d in range(1, SCAN + 1) if (d * max_pct) % 100), None)


def rolling_update(desired: int, min_pct: int, max_pct: int, *, scaled: bool = False) -> tuple[Node, list[str]]:
    """A Deployment ``strategy`` whose floor and ceiling are ECS's ``lower``/``upper`` at ``desired``, and notes."""
    lower, upper = deployment_bounds(desired, min_pct, max_pct)
    unavailable, surge = max(0, desired - lower), max(0, upper - desired)
    notes = [
        f"ECS rolling update of {desired} tasks, minimumHealthyPercent {min_pct}, maximumPercent {max_pct}: "
        f"lower = ceil({desired} × {min_pct} / 100) = {lower} healthy, upper = floor({desired} × {max_pct} / 100) = {upper} in all",
    ]
    if unavailable == 0 and surge == 0:
        surge = 1
        notes.append("ECS's bounds allow neither an extra task nor one fewer, so an ECS deployment would never move "
                     "(ecsctl validate warns, W3017); Kubernetes refuses maxSurge and maxUnavailable both 0: maxSurge 1, "
                     "which lets the rollout go one pod above the ECS ceiling")
    else:
        notes.append(f"Kubernetes: maxUnavailable {unavailable} keeps {desired} − {unavailable} = {desired - unavailable} "
                     f"available, maxSurge {surge} allows {desired} + {surge} = {desired + surge}: the same bounds")
    if lower > desired:
        notes.append(f"minimumHealthyPercent {min_pct} asks for more healthy tasks than desired; Kubernetes cannot, so maxUnavailable is 0")
    differs = _first_surge_difference(max_pct)
    surge_pct = max(0, max_pct - 100)
    text = (f"as percentages, maxUnavailable {max(0, 100 - min_pct)}% keeps the same floor at every count (Kubernetes "
            f"rounds it down), but maxSurge {surge_pct}% rounds up where ECS rounds down")
    if differs is not None:
        d = differs
        text += (f": at {d} replica{'s' if d != 1 else ''} it allows {d + -(-d * surge_pct // 100)} pods, "
                 f"ECS {d * max_pct // 100}")
    else:
        text += f", which makes no difference with maximumPercent {max_pct}"
    notes.append(text)
    if scaled:
        notes.append(f"these are absolute numbers for {desired} replicas: when the HorizontalPodAutoscaler changes the count, "
                     "ECS's percentages of the new count would differ")
    return Node(type="RollingUpdate", rollingUpdate=Node(maxSurge=surge, maxUnavailable=unavailable)), notes


def daemon_update(nodes: int | None, min_pct: int) -> tuple[Node, list[str]]:
    """A DaemonSet ``updateStrategy``: ECS replaces daemon tasks without extra ones (maximumPercent
    100), keeping ``minimumHealthyPercent`` of its instances' tasks healthy.  The instances are
    the nodes, whose count on EKS is not the manifests', so ``maxUnavailable`` is the same
    percentage of the nodes; ``nodes`` (the instances the manifests describe) only sets the
    note's example.  A DaemonSet rounds the percentage up, ECS rounds its healthy floor up:

        >>> daemon_update(3, 50)[0]["rollingUpdate"]
        {'maxSurge': 0, 'maxUnavailable': '50%'}
    """
    value: int | str = f"{max(0, 100 - min_pct)}%"
    notes = [f"ECS daemon deployment, minimumHealthyPercent {min_pct}: a percentage of the instances, as maxUnavailable "
             f"{value} is of the nodes; a DaemonSet rounds it up where ECS rounds the healthy floor up (the unavailable "
             "count down), so one more node may update at once"]
    if nodes:
        lower, _ = deployment_bounds(nodes, min_pct, 100)
        kubernetes = -(-nodes * max(0, 100 - min_pct) // 100)
        notes.append(f"on the {nodes} instances the manifests describe: ECS keeps ceil({nodes} × {min_pct} / 100) = {lower} "
                     f"healthy, replacing {nodes - lower} at a time; the DaemonSet replaces {max(kubernetes, 1)}")
    if value == "0%":
        value = 1
        notes.append("Kubernetes refuses maxUnavailable 0 without a surge; ECS could not replace a daemon task either")
    return Node(type="RollingUpdate", rollingUpdate=Node(maxSurge=0, maxUnavailable=value)), notes
