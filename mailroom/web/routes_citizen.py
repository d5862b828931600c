"""The citizen's status page: ``GET /status`` (the form: reference and access code),
``POST /status`` (the status page, or the same German message for an unknown reference and a
wrong code — rate-limited together with the API) and ``POST /status/antwort`` (the answer to an
information request: a short text and files, checked like every intake).

The access code never goes into a URL or the session: the status page is the answer to the
form post (pages are ``no-store``), and its answer form carries reference and code again.
Citizen pages use their own frame (``buerger/base.html``): large touch targets, no script.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mailroom import texts_de
from mailroom.api.deps import client_key
from mailroom.intake.clean_text import InvalidTextError
from mailroom.intake.inspection_errors import DamagedFileError, RejectedFileError
from mailroom.ports import BlobRef, content_key
from mailroom.services.citizen import Citizen, CitizenStatus
from mailroom.services.intake import (
    AnswerRefusedError,
    IdempotencyConflictError,
    TooManyFilesError,
    Upload,
)
from mailroom.services.status import StatusNotFoundError, TooManyAttemptsError
from mailroom.web.citizen_session import citizen_oidc, current_citizen
from mailroom.web.templating import environment, render
from routing.catalog import Contact

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

STATUS_PATH = "/status"
MAX_REFERENCE = 60
MAX_CODE = 50
FILE_FIELD = "dateien"
TEXT_FIELD = "nachricht"
_CHUNK = 256 * 1024
# Answer refused: why -> HTTP status (the page says the words).
_REFUSED_STATUS = {"no_open_request": 409, "case_closed": 409}


@dataclass(frozen=True)
class CitizenFrame:
    """What the citizen frame (``buerger/base.html``) shows on every page, error pages too."""

    citizen: Citizen | None  # signed in with the Bürgerkonto (never a staff member)
    account_enabled: bool  # the Bürgerkonto is offered
    city_name: str
    city_contact: Contact
    limits: dict[str, int]
    steps: tuple[str, ...] = texts_de.CITIZEN_STEPS


def citizen_frame(request: Request) -> CitizenFrame:
    mailroom = request.app.state.mailroom
    return CitizenFrame(
        citizen=current_citizen(request),
        account_enabled=citizen_oidc(request) is not None,
        city_name=mailroom.catalog.city.name,
        city_contact=mailroom.catalog.city.contact,
        limits=_limits(mailroom.settings),
    )


WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


def wochentag_datum(value: date | None) -> str:
    """A date a citizen can plan with: "Freitag, 13.03.2026"."""
    return "" if value is None else f"{WEEKDAYS[value.weekday()]}, {value:%d.%m.%Y}"


environment.globals["citizen_frame"] = citizen_frame
environment.filters["wochentag_datum"] = wochentag_datum


def render_citizen(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A page in the citizen frame (templates under ``buerger/``)."""
    return render(request, template, context, status_code=status_code, headers=headers)


def _limits(settings: Any) -> dict[str, int]:
    return {
        "max_mb": settings.max_upload_mb,
        "max_request_mb": settings.max_request_mb,
        "max_files": settings.max_files_per_item,
        "max_pages": settings.max_pages,
    }


def _form_page(
    request: Request,
    reference: str = "",
    error: str = "",
    field_errors: Mapping[str, str] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    context = {"reference": reference, "error": error, "field_errors": field_errors or {}}
    return render_citizen(request, "buerger/status_formular.html", context, status_code, headers)


def status_page(
    request: Request,
    status: CitizenStatus,
    *,
    answer_action: str,
    hidden: Mapping[str, str],
    back: tuple[str, str],
    notice: str = "",
    error: str = "",
    typed: str = "",
    status_code: int = 200,
) -> Response:
    """The citizen's status page (also the Bürgerkonto's page of one request)."""
    context = {
        "status": status,
        "answer_action": answer_action,
        "hidden": hidden,
        "back": back,
        "notice": notice,
        "error": error,
        "typed": typed,
    }
    return render_citizen(request, "buerger/status.html", context, status_code)


def too_many_attempts(request: Request, exc: TooManyAttemptsError, reference: str) -> Response:
    minutes = max(1, (exc.retry_after_s + 59) // 60)
    message = texts_de.CITIZEN_TOO_MANY_ATTEMPTS.format(minutes=minutes)
    headers = {"Retry-After": str(exc.retry_after_s)}
    return _form_page(request, reference, message, status_code=429, headers=headers)


@router.get(STATUS_PATH)
def status_form(request: Request, reference: str = "", aktenzeichen: str = "") -> Response:
    """The form; a link from a letter may fill in the reference (never the code)."""
    return _form_page(request, (reference or aktenzeichen)[:MAX_REFERENCE])


@router.post(STATUS_PATH)
async def status_submit(request: Request) -> Response:
    form = await request.form()
    reference, code = _text(form.get("reference"), MAX_REFERENCE), _text(form.get("access_code"))
    missing = {}
    if not reference.strip():
        missing["reference"] = texts_de.CITIZEN_MISSING_REFERENCE
    if not code.strip():
        missing["access_code"] = texts_de.CITIZEN_MISSING_CODE
    if missing:
        return _form_page(request, reference, field_errors=missing, status_code=422)
    citizen = request.app.state.mailroom.services.citizen
    try:
        status = await run_in_threadpool(citizen.status_page, reference, code, client_key(request))
    except StatusNotFoundError:
        return _form_page(request, reference, texts_de.CITIZEN_NOT_FOUND, status_code=404)
    except TooManyAttemptsError as exc:
        return too_many_attempts(request, exc, reference)
    return _anonymous_page(request, status, code)


@router.post(STATUS_PATH + "/antwort")
async def answer_submit(request: Request) -> Response:
    form = await request.form()  # parsed once, for the CSRF check: files are spooled
    reference, code = _text(form.get("reference"), MAX_REFERENCE), _text(form.get("access_code"))
    text, request_id = _text(form.get(TEXT_FIELD), 20_000), _text(form.get("anfrage"), 100)
    citizen = request.app.state.mailroom.services.citizen
    client = client_key(request)
    async with spooled_uploads(request, form.getlist(FILE_FIELD)) as uploads:
        try:
            await run_in_threadpool(
                citizen.answer_request,
                reference,
                code,
                client,
                text,
                uploads,
                request_id or None,
            )
        except StatusNotFoundError:
            return _form_page(request, reference, texts_de.CITIZEN_NOT_FOUND, status_code=404)
        except TooManyAttemptsError as exc:
            return too_many_attempts(request, exc, reference)
        except ANSWER_ERRORS as exc:
            message, status_code = answer_error(request, exc)
            shown = await run_in_threadpool(citizen.status_page, reference, code, client)
            return _anonymous_page(
                request, shown, code, error=message, typed=text, status_code=status_code
            )
    shown = await run_in_threadpool(citizen.status_page, reference, code, client)
    return _anonymous_page(request, shown, code, notice=texts_de.CITIZEN_ANSWER_RECEIVED)


def _anonymous_page(
    request: Request,
    status: CitizenStatus,
    code: str,
    *,
    notice: str = "",
    error: str = "",
    typed: str = "",
    status_code: int = 200,
) -> Response:
    hidden = {"reference": status.reference, "access_code": code}
    return status_page(
        request,
        status,
        answer_action=STATUS_PATH + "/antwort",
        hidden=hidden,
        back=(STATUS_PATH, "Anderes Anliegen abfragen"),
        notice=notice,
        error=error,
        typed=typed,
        status_code=status_code,
    )


ANSWER_ERRORS = (
    AnswerRefusedError,
    RejectedFileError,
    TooManyFilesError,
    InvalidTextError,
    IdempotencyConflictError,
)


def answer_error(request: Request, exc: Exception) -> tuple[str, int]:
    """The German message and status for an answer that was refused (nothing stored)."""
    limits = _limits(request.app.state.mailroom.settings)
    refused = texts_de.CITIZEN_ANSWER_REFUSED
    if isinstance(exc, AnswerRefusedError):
        return refused.get(exc.code, refused["no_open_request"]), _REFUSED_STATUS.get(exc.code, 422)
    if isinstance(exc, TooManyFilesError):
        return refused["too_many_files"].format(**limits), 422
    if isinstance(exc, InvalidTextError):
        return refused["invalid_text"], 422
    if isinstance(exc, IdempotencyConflictError):
        return refused["idempotency_conflict"], 409
    assert isinstance(exc, RejectedFileError)
    problem = texts_de.CITIZEN_FILE_PROBLEMS.get(exc.code)
    if problem is None:
        problem = (
            texts_de.CITIZEN_FILE_DAMAGED
            if isinstance(exc, DamagedFileError) or exc.code.startswith(("pdf_", "image_"))
            else texts_de.CITIZEN_FILE_PROBLEMS["unsupported_file_type"]
        )
    name = f"„{exc.filename}“: " if exc.filename else ""
    log.info("citizen answer refused: %s (%s)", exc.code, exc.message)
    return f"{name}{problem.format(**limits)} {texts_de.CITIZEN_FILE_NOT_STORED}", 422


@contextlib.asynccontextmanager
async def spooled_uploads(request: Request, parts: list[Any]) -> AsyncIterator[list[Upload]]:
    """The form's files as spooled uploads in this process's spool directory (hashed on
    the way), removed afterwards. An empty file input (no file chosen) is no upload."""
    spool: Path = request.app.state.mailroom.spool
    paths: list[Path] = []
    uploads: list[Upload] = []
    try:
        for part in parts:
            if not isinstance(part, UploadFile) or (not part.filename and not part.size):
                continue
            path = spool / f"citizen-{uuid.uuid4().hex}"
            paths.append(path)
            digest, size = hashlib.sha256(), 0
            with path.open("wb") as file:
                while chunk := await part.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    file.write(chunk)
            ref = BlobRef(content_key(digest.hexdigest()), digest.hexdigest(), size)
            uploads.append(Upload(part.filename, path, ref))
        yield uploads
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def _text(value: object, limit: int = MAX_CODE) -> str:
    return value[:limit] if isinstance(value, str) else ""
