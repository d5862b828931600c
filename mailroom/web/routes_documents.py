"""Page images and originals of the documents of an item, for the triage and case pages.

``GET /dokumente/{item_id}/{index}/seiten/{page}.png?breite=900`` — one page as a PNG,
rendered on the server from the original; ``GET /dokumente/{item_id}/{index}/original`` — the
stored file as a download. ``index`` is the document's position in the item (0-based, as in
the services), ``page`` 1-based. Only through an item the principal may see
(``DocumentService`` enforces it): unknown and not visible answer the same 404 page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from mailroom.auth.principal import Principal
from mailroom.services import NotFoundError
from mailroom.web.session import require_principal

router = APIRouter(include_in_schema=False)

THUMBNAIL_WIDTH = 200
ZOOM_WIDTHS = (600, 900, 1400)
WIDTHS = (THUMBNAIL_WIDTH, *ZOOM_WIDTHS)
DEFAULT_WIDTH = 900
# A page image is a scanned letter (personal data): not kept in the browser cache of a
# shared office PC, like every page.
PAGE_CACHE = "private, no-store"
_CHUNK = 256 * 1024
_SAFE_NAME = "dokument"


def page_url(item_id: str, index: int, page: int, width: int = DEFAULT_WIDTH) -> str:
    return f"/dokumente/{item_id}/{index}/seiten/{page}.png?breite={width}"


def original_url(item_id: str, index: int) -> str:
    return f"/dokumente/{item_id}/{index}/original"


def snap_width(width: int) -> int:
    """The rendered width for a requested one: the smallest known width at least as wide
    (a bounded set, so that the server caches a few images, not every width asked for)."""
    return next((w for w in WIDTHS if w >= width), WIDTHS[-1])


def _item_uuid(item_id: str) -> UUID:
    try:
        return UUID(item_id)
    except ValueError:
        raise NotFoundError(f"no item {item_id}") from None


def content_disposition(filename: str | None) -> str:
    """``attachment`` with the stored name: an ASCII fallback and the UTF-8 name (RFC 6266)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or _SAFE_NAME
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"%;' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/dokumente/{item_id}/{index}/seiten/{page}.png")
def page_image(
    request: Request,
    item_id: str,
    index: int,
    page: int,
    principal: Annotated[Principal, Depends(require_principal)],
    breite: Annotated[int, Query(ge=1, le=10_000)] = DEFAULT_WIDTH,
) -> Response:
    documents = request.app.state.mailroom.services.documents
    png = documents.page_png(principal, _item_uuid(item_id), index, page, snap_width(breite))
    return Response(png, media_type="image/png", headers={"Cache-Control": PAGE_CACHE})


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := stream.read(_CHUNK):
            yield chunk
    finally:
        stream.close()


@router.get("/dokumente/{item_id}/{index}/original")
def original(
    request: Request,
    item_id: str,
    index: int,
    principal: Annotated[Principal, Depends(require_principal)],
) -> Response:
    documents = request.app.state.mailroom.services.documents
    stream, document = documents.original(principal, _item_uuid(item_id), index)
    headers = {
        "Content-Disposition": content_disposition(document.filename),
        "Content-Length": str(document.size),
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(_chunks(stream), media_type=document.media_type, headers=headers)
