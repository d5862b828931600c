"""``mailroom scan`` (upload as a scanning station) and ``mailroom status``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from mailroom.cli.main import app

ServerOption = Annotated[
    str, typer.Option(envvar="MAILROOM_SERVER", help="Base URL of the mailroom")
]
DEFAULT_JOURNAL = Path.home() / ".local" / "state" / "mailroom" / "scan-journal.jsonl"


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders; one letter per file")],
    token: Annotated[
        str, typer.Option(envvar="MAILROOM_STATION_TOKEN", help="The station's token")
    ],
    server: ServerOption = "http://127.0.0.1:8000",
    journal: Annotated[Path, typer.Option(help="Record of what was accepted")] = DEFAULT_JOURNAL,
) -> None:
    """Upload scanned letters. A re-run skips files that were already accepted."""
    files = _collect(paths)
    if not files:
        typer.echo("error: no files found", err=True)
        raise typer.Exit(2)
    accepted = _read_journal(journal, server)
    failures = 0
    with (
        httpx.Client(
            base_url=server, timeout=120, headers={"Authorization": f"Bearer {token}"}
        ) as client,
        Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()) as progress,
    ):
        task = progress.add_task("Uploading", total=len(files))
        for path in files:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in accepted:
                progress.console.print(f"{path}: already accepted as {accepted[digest]}")
            else:
                reference = _upload(client, path, data, digest, progress)
                if reference is None:
                    failures += 1
                else:
                    accepted[digest] = reference
                    _append_journal(journal, server, digest, reference, path)
                    progress.console.print(f"{path}: {reference}")
            progress.advance(task)
    if failures:
        typer.echo(f"{failures} of {len(files)} files were not accepted", err=True)
        raise typer.Exit(1)


def _upload(
    client: httpx.Client, path: Path, data: bytes, digest: str, progress: Progress
) -> str | None:
    try:
        response = client.post(
            "/api/v1/scans",
            files=[("files", (path.name, data))],
            headers={"Idempotency-Key": digest},
        )
    except httpx.HTTPError as exc:
        progress.console.print(f"{path}: error: cannot reach the mailroom ({exc})")
        return None
    if response.status_code == 401:
        progress.console.print(f"{path}: error: the station token was refused")
        raise typer.Exit(1)
    if response.status_code != 202:
        progress.console.print(f"{path}: rejected: {_message(response)}")
        return None
    reference: str = response.json()["reference"]
    return reference


@app.command()
def status(
    reference: Annotated[str, typer.Argument(help="e.g. LIN-2026-7K3F-92QD")],
    code: Annotated[str, typer.Option(help="The access code from the acknowledgement")],
    server: ServerOption = "http://127.0.0.1:8000",
) -> None:
    """Show the status of a request, as the citizen sees it."""
    try:
        response = httpx.get(
            f"{server}/api/v1/status/{reference}", headers={"X-Access-Code": code}, timeout=30
        )
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach the mailroom ({exc})", err=True)
        raise typer.Exit(1) from None
    if response.status_code != 200:
        typer.echo(f"error: {_message(response)}", err=True)
        raise typer.Exit(1)
    body = response.json()
    typer.echo(f"{body['reference']}: {body['status_text']}")
    for entry in body["timeline"]:
        typer.echo(f"  {entry['at'][:16].replace('T', ' ')}  {entry['text']}")


def _collect(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            )
        elif path.is_file():
            files.append(path)
        else:
            typer.echo(f"error: {path} does not exist", err=True)
            raise typer.Exit(2)
    return files


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text))
    except ValueError:
        return f"HTTP {response.status_code}"


def _read_journal(journal: Path, server: str) -> dict[str, str]:
    if not journal.exists():
        return {}
    entries = (json.loads(line) for line in journal.read_text().splitlines() if line.strip())
    return {e["sha256"]: e["reference"] for e in entries if e.get("server") == server}


def _append_journal(journal: Path, server: str, digest: str, reference: str, path: Path) -> None:
    journal.parent.mkdir(parents=True, exist_ok=True)
    with journal.open("a") as handle:
        record = {"server": server, "sha256": digest, "reference": reference, "file": str(path)}
        handle.write(json.dumps(record) + "\n")
