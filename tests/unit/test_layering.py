"""The libraries and the domain import no infrastructure (see docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "kafka",
    "minio",
    "uvicorn",
    "mailroom",
    "projections",
}


def imported_modules(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            found.update((str(path.relative_to(ROOT)), n.split(".")[0]) for n in names)
    return found


@pytest.mark.parametrize("package", ["aggregates", "routing", "ocr", "letters"])
def test_library_packages_import_no_infrastructure(package):
    offending = {(f, m) for f, m in imported_modules(package) if m in FORBIDDEN}
    assert offending == set()


def test_aggregates_import_no_ocr_or_routing():
    assert {m for _, m in imported_modules("aggregates")} & {
        "ocr",
        "routing",
        "pytesseract",
    } == set()
