"""``ecsctl view --serve``: the page on 127.0.0.1, redrawn when the state's serial moves.

Three routes, all GET:

* ``/`` — the page, in live mode (its script polls ``serial`` and redraws from ``view.json``);
* ``/serial`` — ``{"serial", "lineage", "version"}``: ``version`` changes with the state's
  serial and, with ``-f``, with the manifest files (names, sizes, mtimes), so an edited
  manifest re-plans too;
* ``/view.json`` — the page's payload for the current version.

The view is built once per version (under a lock, whatever the number of open pages) and a
failure to build it (manifests with errors, a state being replaced) is shown on the page as a
banner instead of stopping the server.  Only the loopback address is bound, and only requests
addressed to it are answered: a ``Host`` other than ``127.0.0.1``, ``localhost`` or ``[::1]``
with the server's port (a page of another site whose name was rebound to 127.0.0.1: DNS
rebinding) gets 403.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ecsctl.cli.render.view.page import page_html
from ecsctl.cli.render.view.payload import pack, to_script_json
from ecsctl.errors import EcsctlError

HOST = "127.0.0.1"
EMPTY_MODEL = {"state": {"path": "", "exists": False, "serial": 0, "lineage": None, "clock": None},
               "clusters": [], "services": [], "plan": None, "scaling": []}


class LiveView:
    """The current payload, rebuilt when ``version()`` changes; ``build()`` returns the view
    model (``ecsctl.app.view.build_view``), ``pack`` makes the page's payload of it, and
    ``first`` is a model already built for the first payload."""

    def __init__(self, build: Callable[[], dict], version: Callable[[], tuple[int, str | None, str]],
                 title: str = "ecsctl view", pack: Callable[[dict], dict] = pack, first: dict | None = None) -> None:
        self._build, self._version, self._pack, self.title = build, version, pack, title
        self._first = first  # a model already built, used for the first payload
        self._lock = threading.Lock()
        self._cached: tuple[str, str] | None = None  # (version, payload JSON)
        self._last_good: dict | None = None

    def serial(self) -> dict:
        serial, lineage, fingerprint = self._version()
        return {"serial": serial, "lineage": lineage, "version": f"{lineage}:{serial}:{fingerprint}"}

    def payload_json(self) -> str:
        with self._lock:
            version = self.serial()["version"]
            if self._cached is None or self._cached[0] != version:
                self._cached = (version, to_script_json(self._payload(version)))
            return self._cached[1]

    def _payload(self, version: str) -> dict:
        try:
            model, self._first = (self._first if self._first is not None else self._build()), None
            payload = self._last_good = self._pack(model)
            payload = dict(payload)
        except EcsctlError as exc:
            payload = dict(self._last_good or pack(EMPTY_MODEL))
            payload["error"] = f"could not refresh the view: {exc}"
        payload["live"] = version
        return payload


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def host_allowed(host: str | None, port: int) -> bool:
    """Whether a request's ``Host`` header names this server: a loopback name with its port
    (without one only on port 80, as a browser sends it)."""
    host = (host or "").strip().lower()
    if host.startswith("["):  # an IPv6 literal: [::1] or [::1]:PORT
        name, _, rest = host.partition("]")
        name += "]"
        if rest and not rest.startswith(":"):
            return False
        given = rest[1:] if rest else "80"
    else:
        name, sep, given = host.rpartition(":")
        if not sep:
            name, given = host, "80"
    return name in LOOPBACK_NAMES and given == str(port)


def make_server(live: LiveView, port: int = 0) -> ThreadingHTTPServer:
    """A server bound to 127.0.0.1:``port`` (0: an ephemeral port); ``server_address`` says which."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "ecsctl-view"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            served = self.server.server_address[1]
            if not host_allowed(self.headers.get("Host"), served):
                self._send(403, "text/plain; charset=utf-8",
                           f"forbidden: this server answers only as http://{HOST}:{served}/ (Host header refused)\n")
                return
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, "text/html; charset=utf-8", page_html(live.payload_json(), title=live.title))
            elif path == "/serial":
                self._send(200, "application/json", json.dumps(live.serial()))
            elif path == "/view.json":
                self._send(200, "application/json", live.payload_json())
            else:
                self._send(404, "text/plain; charset=utf-8", "not found\n")

        def _send(self, status: int, kind: str, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the terminal shows the URL only
            pass

    server = ThreadingHTTPServer((HOST, port), Handler)
    server.daemon_threads = True
    return server
