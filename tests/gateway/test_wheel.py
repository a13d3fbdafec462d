"""`pip wheel .` gives a wheel that installs into a clean venv and serves (docs/deploy.md).

The venv is a fresh `python -m venv` and the wheel is installed into it by pip. Tests reach no
network beyond loopback, so its third-party dependencies are not downloaded: a `.pth` line
lends it the test venv's site-packages directory. A directory named in a `.pth` file is added
to the path without running that directory's own `.pth` files, so the repository's editable
install stays inert and the served code is the wheel's alone (the test checks it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "adapters", "bench")
#: Files that are not package data (bench output), as paths relative to ROOT.
NOT_PACKAGED = ("bench/results/",)


def _source_files() -> set[str]:
    files = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            rel = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in rel and not rel.startswith(NOT_PACKAGED):
                files.add(rel)
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy, so the shared tree gets no build/ or egg-info churn."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("kyc_gateway-*.whl")
    return built


def test_the_wheel_holds_every_package_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_source_files() - names)
    assert missing == []
    for data in (
        "gateway/store/migrations/script.py.mako",
        "gateway/web/pages/templates/console.html",
        "gateway/web/pages/static/console.js",
    ):
        assert data in names


def test_the_wheel_installs_and_serves_in_a_clean_venv(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run(
        [*pip, "install", "-q", "--no-compile", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    lent = sysconfig.get_paths()["purelib"]  # the test venv's: the dependencies
    (Path(site) / "dependencies.pth").write_text(lent + "\n")
    cwd = tmp_path / "host"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KYCGW_", "PYTHON"))}
    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "kyc-gateway"), "serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the installed gateway did not start"
            time.sleep(0.1)
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200  # migrated, writes
        console = httpx.get(f"{base}/console", timeout=5)  # a packaged template
        assert console.status_code == 200 and "<html" in console.text.lower()
        assert httpx.get(f"{base}/static/console.js", timeout=5).status_code == 200
        answer = httpx.post(f"{base}/graphql", json={"query": "{ providers { name } }"}, timeout=5)
        assert answer.json()["data"]["providers"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    where = subprocess.run(
        [str(python), "-c", "import gateway; print(gateway.__file__)"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv))  # the wheel's code served, not the repository's
    assert (cwd / ".kycgw" / "gateway.db").is_file()
