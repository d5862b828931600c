"""Bounded walks over a PDF's object graph: actions, attachments and page images.

Nothing here decodes a content stream or extracts an attachment; only dictionaries are
read. Every walk has a depth or count cap so crafted files with cycles or huge arrays
cannot make the inspection slow. The walks take the catalog and the pages of either
reader the inspection uses — pypdf's objects, or qpdf's through pikepdf (``pdf_quick``) —
so both look for the same things in the same places.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pikepdf
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject

from mailroom.intake.inspection_errors import (
    ImageTooLargeError,
    NoPagesError,
    TooManyPagesError,
    printable_name,
)

if TYPE_CHECKING:
    from mailroom.intake.inspection import UploadLimits

FLAG_JAVASCRIPT = "active content (JavaScript) found"
FLAG_LAUNCH = "active content (Launch action) found"

_MAX_ACTION_DEPTH = 8
_MAX_ITEMS_PER_ARRAY = 500
_MAX_NAME_TREE_NODES = 256
_MAX_REPORTED_ATTACHMENTS = 10
_DICTIONARY_WINDOW = 8192  # an image XObject's dictionary is far smaller than this
_OBJECT_START = re.compile(rb"\s*\d+\s+\d+\s+obj\s*")
_STREAM_KEYWORD = re.compile(rb">>\s*stream[\r\n ]")

RawReader = Callable[[int, int], bytes]  # (offset, length) -> bytes of the PDF body
StreamDictionary = Callable[[Any], dict[Any, Any]]  # an XObject -> its dictionary
Findings = tuple[int, list[str]]  # page count and flags


def resolve(value: Any) -> Any:
    """Follow an indirect reference; plain values are returned unchanged (pikepdf follows
    references itself)."""
    return value.get_object() if isinstance(value, IndirectObject) else value


def dictionary(value: Any) -> dict[Any, Any]:
    """A dictionary (or a stream's dictionary) as a dict of its entries; {} for anything
    else. pikepdf's are copied shallowly: names are the keys, values stay qpdf's."""
    resolved = resolve(value)
    if isinstance(resolved, dict):
        return resolved
    if isinstance(resolved, (pikepdf.Dictionary, pikepdf.Stream)):
        return dict(resolved.items())
    return {}


def _items(value: Any) -> list[Any]:
    """Elements of an array (at most a capped number); a single object counts as one."""
    resolved = resolve(value)
    if resolved is None:
        return []
    if isinstance(resolved, list):
        return list(resolved[:_MAX_ITEMS_PER_ARRAY])
    if isinstance(resolved, pikepdf.Array):
        return list(itertools.islice(resolved, _MAX_ITEMS_PER_ARRAY))
    return [resolved]


def _action_flags(action: Any, depth: int = 0) -> set[str]:
    """Active content in an action dictionary and the chain of its /Next actions."""
    action = dictionary(action)
    if not action or depth > _MAX_ACTION_DEPTH:
        return set()
    flags: set[str] = set()
    kind = resolve(action.get("/S"))
    if kind == "/JavaScript" or "/JS" in action:
        flags.add(FLAG_JAVASCRIPT)
    if kind == "/Launch":
        flags.add(FLAG_LAUNCH)
    for following in _items(action.get("/Next")):
        flags |= _action_flags(following, depth + 1)
    return flags


def _additional_action_flags(holder: dict[Any, Any]) -> set[str]:
    """Flags for the /AA (additional actions) of a catalog, page or annotation."""
    flags: set[str] = set()
    for action in dictionary(holder.get("/AA")).values():
        flags |= _action_flags(action)
    return flags


def _annotations(page: dict[Any, Any]) -> Iterable[dict[Any, Any]]:
    for annotation in _items(page.get("/Annots")):
        resolved = dictionary(annotation)
        if resolved:
            yield resolved


def active_content_flags(catalog: dict[Any, Any], pages: Iterable[dict[Any, Any]]) -> list[str]:
    """JavaScript or Launch actions at document open, in the name tree, on pages or links."""
    flags = _action_flags(catalog.get("/OpenAction")) | _additional_action_flags(catalog)
    if "/JavaScript" in dictionary(catalog.get("/Names")):
        flags.add(FLAG_JAVASCRIPT)
    for page in pages:
        flags |= _additional_action_flags(page)
        for annotation in _annotations(page):
            flags |= _action_flags(annotation.get("/A")) | _additional_action_flags(annotation)
    return sorted(flags)


def _text(value: Any) -> str | None:
    value = resolve(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, pikepdf.String):
        return str(value)
    return None


def _file_specification_name(specification: Any, fallback: str | None = None) -> str | None:
    entries = dictionary(specification)
    if not entries:  # a plain file name (or nothing)
        return _text(specification) or fallback
    for key in ("/UF", "/F", "/DOS", "/Unix", "/Mac"):
        name = _text(entries.get(key))
        if name:
            return name
    return fallback


def _embedded_files_tree(catalog: dict[Any, Any]) -> Iterable[str | None]:
    """Names from the /EmbeddedFiles name tree, walking a capped number of nodes."""
    pending = [dictionary(dictionary(catalog.get("/Names")).get("/EmbeddedFiles"))]
    visited = 0
    while pending and visited < _MAX_NAME_TREE_NODES:
        node = pending.pop()
        visited += 1
        pairs = _items(node.get("/Names"))
        for key, specification in zip(pairs[::2], pairs[1::2], strict=False):
            yield _file_specification_name(specification, fallback=_text(key))
        pending.extend(dictionary(kid) for kid in _items(node.get("/Kids")))


def attachment_names(catalog: dict[Any, Any], pages: Iterable[dict[Any, Any]]) -> list[str]:
    """Names of embedded files (name tree, associated files, file attachment annotations)."""
    found: list[str | None] = list(_embedded_files_tree(catalog))
    found += [_file_specification_name(spec) for spec in _items(catalog.get("/AF"))]
    for page in pages:
        for annotation in _annotations(page):
            if resolve(annotation.get("/Subtype")) == "/FileAttachment":
                found.append(_file_specification_name(annotation.get("/FS"), "unnamed"))
    names = dict.fromkeys(printable_name(name or "unnamed") for name in found)
    return list(names)[:_MAX_REPORTED_ATTACHMENTS]


def content_flags(catalog: dict[Any, Any], pages: Iterable[dict[Any, Any]]) -> list[str]:
    """What the document is flagged for: active content, then each attachment."""
    pages = list(pages)
    attachments = attachment_names(catalog, pages)
    return active_content_flags(catalog, pages) + [
        f"PDF contains an attachment ({name})" for name in attachments
    ]


def checked_page_count(
    declared: Any, count_pages: Callable[[], int], limits: UploadLimits, filename: str | None
) -> int:
    """The page count, rejected on the declared /Count first (so a huge page tree is never
    walked, ``count_pages``), then on the pages found."""
    if isinstance(declared, int) and not isinstance(declared, bool) and declared > limits.max_pages:
        pages = declared
    else:
        pages = count_pages()
    if pages == 0:
        raise NoPagesError("PDF has no pages", filename=filename)
    if pages > limits.max_pages:
        raise TooManyPagesError(
            f"too many pages ({pages} > limit {limits.max_pages})", filename=filename
        )
    return pages


def pypdf_stream_dictionary(reader: PdfReader, raw: RawReader, value: Any) -> dict[Any, Any]:
    """The dictionary of an XObject without reading its stream data.

    pypdf loads a stream's whole data when it resolves the object; for a page image that
    is megabytes per page, so the dictionary is parsed from the bytes at the object's
    cross-reference offset instead (image XObjects are streams, and streams are never
    inside object streams). Anything unusual falls back to pypdf's own resolution.
    """
    if not isinstance(value, IndirectObject):
        return dictionary(value)
    offset = reader.xref.get(value.generation, {}).get(value.idnum)
    if isinstance(offset, int):
        window = raw(offset, _DICTIONARY_WINDOW)
        start, end = _OBJECT_START.match(window), _STREAM_KEYWORD.search(window)
        if start is not None and end is not None and start.end() < end.start():
            parsed = DictionaryObject.read_from_stream(
                io.BytesIO(window[start.end() : end.start() + 2]), reader
            )
            if isinstance(parsed, dict):
                return parsed
    return dictionary(value)


def check_page_images(
    stream_dictionary: StreamDictionary,
    page: dict[Any, Any],
    number: int,
    limits: UploadLimits,
    filename: str | None,
) -> None:
    """Reject a page whose image XObjects would decode to more pixels than allowed.
    ``stream_dictionary``: how the reader gets an image's dictionary without its data."""
    resources = dictionary(page.get("/Resources"))
    xobjects = dictionary(resources.get("/XObject"))
    for reference in list(xobjects.values())[:_MAX_ITEMS_PER_ARRAY]:
        image = stream_dictionary(reference)
        if resolve(image.get("/Subtype")) != "/Image":
            continue
        width, height = resolve(image.get("/Width")), resolve(image.get("/Height"))
        if not (isinstance(width, int) and isinstance(height, int)):
            continue
        if width * height > limits.max_pixels:
            raise ImageTooLargeError(
                f"image too large (page {number}: {width}×{height} px, "
                f"limit {limits.max_pixels / 1_000_000:g} MP)",
                filename=filename,
            )
