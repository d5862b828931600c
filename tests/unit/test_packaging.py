"""The lock file pins what the image installs; `make run` installs the runtime only."""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[2]
LOCK = ROOT / "requirements.lock"
DOCKERFILE = ROOT / "infra" / "Dockerfile"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# name==version [; marker] at the start of a line, then its hashes
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)", re.M)


def _pins() -> dict[str, list[Version]]:
    pins: dict[str, list[Version]] = {}
    for m in PIN.finditer(LOCK.read_text()):
        pins.setdefault(canonicalize_name(m["name"]), []).append(Version(m["version"]))
    return pins


@pytest.mark.parametrize("dependency", PYPROJECT["project"]["dependencies"])
def test_every_dependency_is_pinned_in_the_lock_file_within_its_bounds(dependency):
    """GIVEN a dependency of pyproject.toml THEN the lock file pins a version it allows.

    Fails after a dependency was added or its bounds changed without `make lock`.
    """
    requirement = Requirement(dependency)
    versions = _pins().get(canonicalize_name(requirement.name))
    assert versions, f"{requirement.name} is not in requirements.lock: run `make lock`"
    for version in versions:
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {requirement.name}=={version} outside {requirement.specifier}:"
            " run `make lock`"
        )


def test_the_lock_file_holds_no_test_tool():
    dev_tools = PYPROJECT["project"]["optional-dependencies"]["dev"]
    dev = {canonicalize_name(Requirement(d).name) for d in dev_tools}
    assert dev & _pins().keys() == set()


def test_every_pin_of_the_lock_file_has_a_hash():
    text = LOCK.read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    for entry in entries:
        if PIN.match(entry):
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_lock_file_names_no_index_and_no_path_of_a_machine():
    text = LOCK.read_text()
    for forbidden in ("--index-url", "--extra-index-url", "--find-links", "file:", "/opt/"):
        assert forbidden not in text, forbidden
    assert not re.search(r"\(/[^)]*pyproject\.toml\)", text), "absolute path of pyproject.toml"


def test_the_image_installs_the_lock_file_with_hashes_then_the_package_without_dependencies():
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    assert "COPY requirements.lock ./" in lines
    assert "RUN pip install --require-hashes -r requirements.lock" in lines
    assert any(line.startswith("RUN pip install --no-deps . ") for line in lines)


def test_the_image_copies_every_package_of_the_distribution():
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE.read_text(), re.M))
    patterns = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    included = {p.rstrip("*") for p in patterns}
    assert included <= copied
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
    needed = included | {"requirements.lock", "pyproject.toml", "README.md"}
    assert {f"!{name}" for name in needed} <= set(ignore)


def _make_dry_run(target: str) -> str:
    make = shutil.which("make")
    assert make, "make is part of the development setup (README)"
    result = subprocess.run(
        [make, "--dry-run", "--always-make", "--no-print-directory", target],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_make_run_installs_the_locked_runtime_without_the_test_tools():
    commands = _make_dry_run("run")
    assert "pip install --quiet --require-hashes -r requirements.lock" in commands
    assert "[dev]" not in commands
    assert "chromium" not in commands  # a Debian package of the tests only


def test_make_test_adds_the_test_tools_and_runs_lint_typecheck_and_pytest():
    commands = _make_dry_run("test")
    assert "pip install --quiet -e '.[dev]'" in commands
    for step in ("ruff check .", "ruff format --check .", "mypy ", "pytest -q", "chromium"):
        assert step in commands, step
