"""``ecsctl view [-f DIR] [--out FILE.html] [--serve [--port N]]``"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import current
from ecsctl.errors import InputError, UsageError

DEFAULT_OUT = "ecsctl-view.html"


@boundary
def view(
    files: Optional[List[str]] = typer.Option(None, "-f", "--file", help="Manifest files or directories: show the plan too (repeatable)."),
    out: Optional[str] = typer.Option(None, "--out", help=f"Write the page to FILE (default {DEFAULT_OUT}; - for stdout)."),
    serve: bool = typer.Option(False, "--serve", help="Serve the page on 127.0.0.1 and redraw it when the state changes."),
    port: Optional[int] = typer.Option(None, "--port", min=0, max=65535, help="Port for --serve (default: any free one)."),
) -> None:
    """A self-contained HTML page of the cluster, services, plan and scaling.

    With -o json|yaml: the data the page is drawn from."""
    opts = current()
    fmt = opts.format()
    path = opts.state_path
    if not files:  # nothing applied and no manifests: nothing to draw (nor to serve)
        from ecsctl.app.state import open_required

        open_required(path).close()
    if fmt != "text":  # the view model itself, for scripts: what the page is drawn from
        if serve or out:
            raise UsageError(f"-o {fmt} prints the view model on stdout; --out and --serve are for the page")
        from ecsctl.cli.render.machine import emit

        emit(_build(path, files or None), fmt)
        return
    if serve:
        if out:
            raise UsageError("--out writes a file and --serve serves the page: give one of them")
        _serve(path, files or None, port or 0)
        return
    if port is not None:
        raise UsageError("--port applies to --serve only")
    out = out or DEFAULT_OUT
    _check_out(out)  # before building: a big view takes seconds
    _write(path, files or None, out)


def _check_out(out: str) -> None:
    """Refuse a page path that cannot be written, naming it (a data/IO error: exit 1)."""
    from ecsctl.app.out_path import out_problem

    problem = None if out == "-" else out_problem(out)
    if problem is None:
        return
    why, where = problem
    if why == "folder":
        raise InputError(f"{out}: is a directory; give a file name (e.g. {where / DEFAULT_OUT})")
    raise InputError(f"{out}: cannot write the page: {where} {why}")


def _build(path: str, files: list[str] | None) -> dict:
    from ecsctl.app.plan import ManifestErrors
    from ecsctl.app.view import build_view

    try:
        return build_view(path, files)
    except ManifestErrors as exc:
        from ecsctl.cli.render import findings

        sys.stderr.write(findings.render_text(exc.report, color=current().color(sys.stderr)))
        raise


def _write(path: str, files: list[str] | None, out: str) -> None:
    from ecsctl.app.view import paused_gc
    from ecsctl.cli.render.view.page import render_page

    with paused_gc():
        page = render_page(_build(path, files))
    if out == "-":
        sys.stdout.write(page)
        return
    try:
        Path(out).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{out}: cannot write the page: {exc.strerror or exc}") from None
    sys.stderr.write(f"Wrote {out} ({len(page.encode('utf-8')) / 1024:,.0f} KiB): open it in a browser.\n")


def _serve(path: str, files: list[str] | None, port: int) -> None:
    from ecsctl.app.view import manifests_fingerprint, paused_gc, state_serial
    from ecsctl.cli.render.view.payload import pack
    from ecsctl.cli.render.view.server import HOST, LiveView, make_server

    def version():
        serial, lineage = state_serial(path)
        return serial, lineage, manifests_fingerprint(files)

    def payload(model: dict) -> dict:
        with paused_gc():
            return pack(model)

    # built once before listening: a bad state or manifest fails here, as one line; later
    # failures (a manifest being edited) are shown on the page and the last good view stays
    first = _build(path, files)
    live = LiveView(lambda: _build(path, files), version, title=f"ecsctl view: {path}", pack=payload, first=first)
    try:
        server = make_server(live, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    url = f"http://{HOST}:{server.server_address[1]}/"
    sys.stdout.write(f"Serving the view of {path} at {url} (Ctrl-C stops)\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        sys.stderr.write("stopped\n")
    finally:
        server.server_close()
