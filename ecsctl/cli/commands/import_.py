"""``ecsctl import``: task definitions and services from AWS (or describe-* JSON files) to manifests."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from ecsctl.cli import aws as aws_cli
from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import current
from ecsctl.errors import InputError, UsageError


@boundary
def import_(
    files: Optional[List[str]] = typer.Argument(None, help="describe-task-definition / describe-services output or RegisterTaskDefinition JSON files."),
    out: Optional[str] = typer.Option(None, "--out", help="Write one manifest per resource into DIR (default: print them)."),
    no_state: bool = typer.Option(False, "--no-state", help="Only write manifests; record nothing in the state."),
    force: bool = typer.Option(False, "--force", help="Replace state records that hold other settings."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="--backend aws: the cluster whose services to import."),
    service: Optional[List[str]] = typer.Option(None, "--service", help="--backend aws: only this service (repeatable)."),
    family: Optional[List[str]] = typer.Option(None, "--family", help="--backend aws: a task definition family (repeatable)."),
    backend: str = aws_cli.backend_option(),
    region: Optional[str] = aws_cli.region_option(),
    profile: Optional[str] = aws_cli.profile_option(),
    endpoint_url: Optional[str] = aws_cli.endpoint_option(),
) -> None:
    """Turn existing task definitions and services into manifests that then plan to zero changes."""
    from ecsctl.app import importer
    from ecsctl.app.backend_of import AWS, LOCAL, check_backend, record_backend
    from ecsctl.app.state import open_existing, open_store

    aws = aws_cli.connect(backend, region, profile, endpoint_url)
    if aws is None:
        if not files:
            raise UsageError("give describe-* JSON files to import, or --backend aws --cluster C to import from AWS")
        items = importer.from_files(files)
    else:
        if files:
            raise UsageError("--backend aws imports from AWS: give --cluster/--service/--family, not files")
        if not cluster and not family:
            raise UsageError("--backend aws: name a --cluster (its services) or a --family")
        items = importer.from_live(aws, cluster=cluster or "default", services=service or [], families=family or [])
    if not items:  # what was asked for exists but holds nothing: a data problem, not a usage one
        raise InputError(f"cluster {cluster or 'default'}: no ACTIVE services to import" if aws is not None
                         else "nothing to import")
    backend = LOCAL if aws is None else AWS
    if not no_state:  # a state of the other backend is refused before any manifest is written
        existing = open_existing(current().state_path)
        if existing is not None:
            with existing:
                check_backend(existing, backend, current().state_path)
    fmt = current().format()
    if fmt != "text" and out is None:  # one document: the manifests
        from ecsctl.cli.render.machine import emit

        emit([i.manifest() for i in items], fmt)
    else:
        text = importer.write_manifests(items, out)
        if text:
            sys.stdout.write(text)
    skipped: list[str] = []
    if not no_state:
        path = current().state_path
        with open_store(path) as store, store.locked("ecsctl import"):
            check_backend(store, backend, path)
            if aws is None:  # files: the local simulation's state, which must hold the objects too
                done = importer.record_local(items, store, force=force)
                written, skipped = done.written, done.skipped
            else:
                written = importer.record(items, store, force=force)
            if written:
                record_backend(store, backend)
        where = "the state" if aws is not None else "the state and its simulation"
        sys.stderr.write(f"Imported {len(written)} resource(s) into {where} {path}: {', '.join(written) or 'none'}\n")
        for line in skipped:
            sys.stderr.write(f"Not recorded: {line}.\n")
    if out:
        after = f"`ecsctl plan -f {out}` should show no changes" if not skipped else \
            f"`ecsctl plan -f {out}` creates what was not recorded"
        sys.stderr.write(f"Wrote {len(items)} manifest(s) to {out}; {after}.\n")
