"""``ecsctl view --serve``: the page and its serial endpoint on 127.0.0.1, following the state.

No sleeps stand in for synchronisation: every wait polls a condition until a deadline.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from ecsctl.app.view import build_view, manifests_fingerprint, state_serial
from ecsctl.cli.render.view.server import LiveView, make_server
from tests.view.viewkit import REPO, cli, get
from tests.view.viewkit import chromium, example_state  # noqa: F401 - fixtures

DEADLINE = 30.0


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=DEADLINE) as response:
        return response.status, response.headers["Content-Type"], response.read().decode("utf-8")


def until(condition, what: str):
    """Poll ``condition()`` until it returns something true, or fail at the deadline."""
    end = time.monotonic() + DEADLINE
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextmanager
def serving(state: Path, files=None):
    live = LiveView(lambda: build_view(str(state), files),
                    lambda: (*state_serial(str(state)), manifests_fingerprint(files)))
    server = make_server(live, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(DEADLINE)


def test_serves_the_page_and_follows_the_serial(tmp_path: Path, example_state: Path) -> None:
    state = tmp_path / "state.db"
    shutil.copy(example_state, state)
    with serving(state) as url:
        assert url.startswith("http://127.0.0.1:")
        status, kind, page = fetch(url)
        assert status == 200 and kind.startswith("text/html") and 'id="ecsctl-data"' in page
        status, kind, body = fetch(url + "serial")
        first = json.loads(body)
        assert kind == "application/json" and first["serial"] == state_serial(str(state))[0]
        payload = json.loads(fetch(url + "view.json")[2])
        assert payload["live"] == first["version"] and payload["state"]["serial"] == first["serial"]

        idle = next(i["id"] for i in get(state, "instances") if i["runningTasksCount"] == 0)
        cli("instances", "drain", idle, "--state", str(state))
        moved = until(lambda: (lambda s: s if s["serial"] > first["serial"] else None)(json.loads(fetch(url + "serial")[2])),
                      "the served serial to move")
        assert moved["version"] != first["version"]
        payload = json.loads(fetch(url + "view.json")[2])
        assert payload["live"] == moved["version"]
        statuses = {row[0]: payload["strings"][row[4]] for z in payload["clusters"][0]["zones"] for row in z["instances"]}
        assert statuses[idle] == "DRAINING"
        try:
            fetch(url + "nothing-here")
            raise AssertionError("expected a 404")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404


def request_as(url: str, host: str | None, path: str = "/view.json") -> tuple[int, str]:
    """GET ``path`` from the server at ``url`` with this ``Host`` header (``None``: none at all)."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=DEADLINE)
    try:
        conn.putrequest("GET", path, skip_host=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


def test_only_requests_addressed_to_the_loopback_are_answered(tmp_path: Path, example_state: Path) -> None:
    """DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 sends
    ``Host: evil.example:PORT``; the server refuses it rather than hand over the state."""
    state = tmp_path / "state.db"
    shutil.copy(example_state, state)
    with serving(state) as url:  # bound before serve_forever starts: a request waits in the backlog
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}"):
            status, body = request_as(url, host)
            assert status == 200 and json.loads(body)["state"]["serial"] > 0, host
        refused = f"forbidden: this server answers only as http://127.0.0.1:{port}/ (Host header refused)\n"
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1", "localhost",
                     f"127.0.0.1.evil.example:{port}", "", None):
            for path in ("/", "/serial", "/view.json"):
                assert request_as(url, host, path) == (403, refused), (host, path)


def test_host_allowed_wants_a_loopback_name_and_the_port() -> None:
    from ecsctl.cli.render.view.server import host_allowed

    assert host_allowed("127.0.0.1:8080", 8080) and host_allowed("[::1]:8080", 8080)
    assert host_allowed("localhost", 80) and host_allowed("[::1]", 80)  # a browser leaves out port 80
    assert not host_allowed("localhost", 8080) and not host_allowed("[::1]x:8080", 8080)
    assert not host_allowed("localhost:8080:8080", 8080) and not host_allowed(None, 8080)


def test_a_manifest_edit_replans(tmp_path: Path, example_state: Path) -> None:
    state = tmp_path / "state.db"
    shutil.copy(example_state, state)
    manifests = tmp_path / "m"
    shutil.copytree(REPO / "manifests", manifests)
    with serving(state, [str(manifests)]) as url:
        first = json.loads(fetch(url + "serial")[2])
        assert json.loads(fetch(url + "view.json")[2])["plan"]["summary"]["update"] == 0
        web = manifests / "web.yaml"
        web.write_text(web.read_text(encoding="utf-8").replace("desiredCount: 3", "desiredCount: 4"), encoding="utf-8")
        os.utime(web, ns=(time.time_ns(), time.time_ns() + 10**9))  # a distinct mtime even on a coarse clock
        until(lambda: json.loads(fetch(url + "serial")[2])["version"] != first["version"], "the manifests' version to move")
        plan = json.loads(fetch(url + "view.json")[2])["plan"]
        assert [c["address"] for c in plan["changes"] if c["action"] == "update"] == ["service/prod/web"]
        # a manifest with an error leaves the last good view up, with the error on it
        web.write_text("kind: [", encoding="utf-8")
        os.utime(web, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
        payload = until(lambda: (lambda p: p if "error" in p else None)(json.loads(fetch(url + "view.json")[2])), "the error banner")
        assert payload["error"].startswith("could not refresh the view:") and payload["plan"] == plan


def _read_line(proc: subprocess.Popen) -> str:
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if selector.select(timeout=0.5):
            return proc.stdout.readline()
        assert proc.poll() is None, proc.stderr.read()
    raise AssertionError("ecsctl view --serve printed no URL")


@contextmanager
def command(state: Path, cwd: Path):
    """``ecsctl view --serve`` in a subprocess: yields (process, URL)."""
    proc = subprocess.Popen([sys.executable, "-m", "ecsctl", "view", "--serve", "--state", str(state)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    try:
        line = _read_line(proc)
        assert line.startswith(f"Serving the view of {state} at http://127.0.0.1:"), line
        yield proc, line.split(" at ", 1)[1].split()[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_the_command_prints_the_url_and_stops_on_ctrl_c(tmp_path: Path, example_state: Path) -> None:
    state = tmp_path / "state.db"
    shutil.copy(example_state, state)
    with command(state, tmp_path) as (proc, url):
        assert json.loads(fetch(url + "serial")[2])["serial"] == state_serial(str(state))[0]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=DEADLINE) == 0
        errors = proc.stderr.read()
        assert errors == "stopped\n", errors


def test_the_served_page_draws_and_polls_in_a_browser(tmp_path: Path, example_state: Path, chromium) -> None:
    state = tmp_path / "state.db"
    shutil.copy(example_state, state)
    with command(state, tmp_path) as (proc, url):
        serial = json.loads(fetch(url + "serial")[2])["serial"]
        dom = chromium.dom(url, "--virtual-time-budget=3000")
        assert f"● live, serial {serial}" in dom and 'data-zone="eu-west-1a"' in dom


def test_the_page_redraws_when_the_version_moves(tmp_path: Path, example_state: Path, chromium) -> None:
    """The version moves after the page's first poll (counted, not timed): the page fetches
    view.json and redraws itself from it without a reload."""
    model = build_view(str(example_state))
    asked = []  # one entry per look at the version: the page's load is 1, its first poll 2, 3 …

    def serial() -> int:
        return model["state"]["serial"] + (1 if len(asked) > 2 else 0)

    def version():
        asked.append(1)
        return serial(), model["state"]["lineage"], ""

    def build():
        moved = json.loads(json.dumps(model))
        moved["state"]["serial"] = serial()
        return moved

    live = LiveView(build, version)
    server = make_server(live, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        dom = chromium.dom(url, "--virtual-time-budget=5000")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(DEADLINE)
    after = model["state"]["serial"] + 1
    assert f'data-rendered="{after}"' in dom and f"serial {after}" in dom
