"""`scripts/serve` installs only when it has to; `kyc-gateway serve` on a taken port says so in
one line and exits before announcing anything."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _stub(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _repo_with_stub_venv(tmp_path: Path) -> Path:
    """A copy of the script and pyproject.toml beside a .venv whose pip and kyc-gateway only
    record that they ran: the script's decisions are real, the (slow, shared) install is not."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "serve", repo / "scripts" / "serve")
    shutil.copy2(ROOT / "pyproject.toml", repo / "pyproject.toml")
    bin_dir = repo / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    _stub(bin_dir / "python", "exit 0")  # the import check passes
    _stub(bin_dir / "pip", f'echo "$@" >> "{tmp_path / "pip.log"}"')
    _stub(bin_dir / "kyc-gateway", 'echo "served $*"')
    return repo


def _serve_script(repo: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(repo / "scripts" / "serve"), "--port", "1234"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "served serve --port 1234"
    return result


def _pip_runs(tmp_path: Path) -> int:
    log = tmp_path / "pip.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_serve_script_installs_only_when_pyproject_changes(tmp_path: Path) -> None:
    repo = _repo_with_stub_venv(tmp_path)

    first = _serve_script(repo)
    assert "installing" in first.stderr
    assert _pip_runs(tmp_path) == 1

    second = _serve_script(repo)
    assert "installing" not in second.stderr
    assert _pip_runs(tmp_path) == 1  # the restart did not run pip

    with (repo / "pyproject.toml").open("a") as f:
        f.write("\n# a changed dependency list\n")
    third = _serve_script(repo)
    assert "installing" in third.stderr
    assert _pip_runs(tmp_path) == 2
    assert "installing" not in _serve_script(repo).stderr

    # A venv that cannot import the gateway (deleted site-packages) is repaired too.
    _stub(repo / ".venv" / "bin" / "python", "exit 1")
    assert "installing" in _serve_script(repo).stderr
    assert _pip_runs(tmp_path) == 3


def test_serve_on_a_taken_port_is_one_line_and_non_zero(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("KYCGW_")}
        env["KYCGW_DATA_DIR"] = str(tmp_path / "data")
        result = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0] and "in use" in lines[0]
    assert "listening" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # it stopped before migrating a database
