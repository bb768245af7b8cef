"""Make ``docs/view.png``, the README's picture of ``ecsctl view``, with headless Chromium.

    python docs/make_screenshot.py [--out docs/view.png]

The scenario of the view tests (``tests/view/viewkit.make_stalled``): the example stack
applied, two of its idle instances out of service (one drained, one stopped), and a plan that
redeploys the worker as 7 GiB tasks at minimumHealthyPercent 100 / maximumPercent 150, which
stalls on memory.  The screenshot is reduced to a 64-colour palette to keep the file small.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.view.viewkit import CHROMIUM_FLAGS, cli, make_stalled  # noqa: E402

SIZE = "1440,1600"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "view.png")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ecsctl-shot-") as tmp:
        work = Path(tmp)
        stalled = make_stalled(work)
        page, shot = work / "view.html", work / "view.png"
        cli("view", "-f", str(stalled.manifests), "--state", str(stalled.state), "--out", str(page))
        subprocess.run(["chromium", *CHROMIUM_FLAGS, f"--window-size={SIZE}", f"--user-data-dir={work / 'profile'}",
                        f"--screenshot={shot}", page.as_uri()], check=True, capture_output=True)
        Image.open(shot).convert("RGB").quantize(colors=64).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
