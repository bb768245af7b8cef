"""Dependencies point one way (cli -> app -> core) and validation stays light: enforced, not hoped for."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HEAVY = ["networkx", "deepdiff", "rich", "boto3", "botocore", "croniter"]


def test_import_linter_contracts_hold() -> None:
    """The contracts in pyproject.toml's [tool.importlinter]; the output says which import broke one."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())", "--no-cache"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_validating_imports_nothing_heavy(tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(textwrap.dedent("""\
        apiVersion: ecsctl/v1
        kind: TaskDefinition
        metadata: {name: web}
        spec:
          family: web
          requiresCompatibilities: [FARGATE]
          networkMode: awsvpc
          cpu: "256"
          memory: "512"
          containerDefinitions:
            - {name: web, image: "nginx:1.27", essential: true, portMappings: [{containerPort: 80}]}
        """))
    script = textwrap.dedent(f"""\
        import json, sys
        import ecsctl.app.validate
        report = ecsctl.app.validate.validate_paths([{str(manifest)!r}])
        print(json.dumps({{"documents": report.documents,
                           "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
        """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result == {"documents": 1, "heavy": []}


def test_version_probe_imports_no_cli_framework() -> None:
    """``ecsctl --version`` answers before Typer, click or the rules are imported."""
    script = textwrap.dedent("""\
        import sys
        sys.argv = ["ecsctl", "--version"]
        from ecsctl.cli import main
        main()
        print(sorted(m for m in ("typer", "click", "jsonschema", "ecsctl.core.rules") if m in sys.modules))
        """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"
