"""Persisted state as the core sees it: the ``StateStore`` port and the records it holds."""

from ecsctl.core.state.ports import (
    EVENTS_KEPT,
    CatalogueEntry,
    Cluster,
    ContainerInstance,
    Deployment,
    LockInfo,
    Resource,
    Service,
    ServiceEvent,
    StateMeta,
    StateStore,
    TargetRegistration,
    Task,
    TaskDefinitionRevision,
    WorldRecord,
)

__all__ = [
    "EVENTS_KEPT",
    "CatalogueEntry",
    "Cluster",
    "ContainerInstance",
    "Deployment",
    "LockInfo",
    "Resource",
    "Service",
    "ServiceEvent",
    "StateMeta",
    "StateStore",
    "TargetRegistration",
    "Task",
    "TaskDefinitionRevision",
    "WorldRecord",
]
