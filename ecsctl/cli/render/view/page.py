"""One self-contained HTML page from the view model: styles, script and data inline.

The page loads nothing: ``page.css`` and ``page.js`` (beside this module) are inlined, and
the packed view model (``payload.pack``) sits in a ``<script type="application/json">`` that
the script draws from.  With ``live`` set (by ``ecsctl view --serve``) the script polls the
server it came from and redraws when the state's serial moves.
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources

from ecsctl.cli.render.view.payload import pack, to_script_json

TITLE = "ecsctl view"


@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def render_page(model: dict, *, live: str | None = None, error: str | None = None) -> str:
    """The page for the view model ``model`` (``ecsctl.app.view.build_view``)."""
    payload = pack(model)
    if live is not None:
        payload["live"] = live
    if error:
        payload["error"] = error
    return page_html(to_script_json(payload), title=f"{TITLE}: {model['state']['path']}")


def page_html(data_json: str, *, title: str = TITLE) -> str:
    """The page around a payload already encoded by ``to_script_json``."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        # nothing from the network, ever: the policy makes a stray URL fail instead of load
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; connect-src 'self'\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{_asset('page.css')}</style>\n</head>\n"
        "<body>\n<header><h1>ecsctl view</h1><span class=\"meta\" id=\"meta\"></span>"
        "<nav><a href=\"#cluster\">cluster</a><a href=\"#services\">services</a>"
        "<a href=\"#plan\" id=\"nav-plan\">plan</a><a href=\"#scaling\">scaling</a></nav>"
        "<input id=\"find\" type=\"search\" placeholder=\"find an instance, task, IP or service (Enter)\">"
        "<span id=\"live\" class=\"live\" style=\"display:none\"></span></header>\n"
        "<main id=\"root\"><noscript>This page draws the cluster with JavaScript; enable it to see the view.</noscript></main>\n"
        "<aside id=\"details\"></aside><div id=\"tip\"></div>\n"
        f"<script type=\"application/json\" id=\"ecsctl-data\">{data_json}</script>\n"
        f"<script>\n{_asset('page.js')}</script>\n</body></html>\n"
    )
