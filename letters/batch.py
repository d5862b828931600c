"""Print batches: many rendered letters in one PDF for the print street, with a manifest.

Every letter starts on the front of a sheet: printed duplex, a letter with an odd number of
pages gets a blank back page after it (the size of its last page), so that the letters can
be cut apart by sheet count and enveloped. The batch has a bookmark per letter.

The batch is written as it is read: letters are taken one at a time from the iterable (the
caller may fetch each from storage as it is asked for), each letter's objects are parsed by
pypdf, renumbered and written to the file at once, and only the page numbers and object
offsets stay in memory (a few bytes per object). pypdf's own ``PdfWriter`` keeps every
page's objects until the end (about 170 MB for 1,000 letters); this keeps memory flat
whatever the batch size. The file is written beside ``out`` and moved into place, so a
reader never sees half a batch.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

from letters.models import LetterError

_INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
_A4 = (595.276, 841.89)


@dataclass(frozen=True)
class BatchLetter:
    """One letter for the batch: its rendered PDF and what the manifest says of it."""

    letter_id: str
    case_reference: str
    recipient: str  # one line, as the print shop may need it (name, address)
    pdf: bytes = field(repr=False)


@dataclass(frozen=True)
class ManifestEntry:
    """Where a letter lies in the batch. ``pages`` counts the letter's own pages (not the
    blank back page); ``sheets`` the sheets of paper it takes; ``first_page`` is 1-based in
    the batch PDF."""

    letter_id: str
    case_reference: str
    pages: int
    sheets: int
    first_page: int
    recipient: str


def sheets_for(pages: int, *, duplex: bool = True) -> int:
    return (pages + 1) // 2 if duplex else pages


def build_batch(
    letters: Iterable[BatchLetter], out: Path, *, duplex: bool = True
) -> list[ManifestEntry]:
    """Write every letter into one PDF at ``out``, each starting on a front side (a blank
    page after an odd page count when ``duplex``), and return the manifest, in input order.

    Raises LetterError for a letter whose PDF cannot be read (naming it) or for an empty
    batch; ``out`` is not touched then.
    """
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial")
    manifest: list[ManifestEntry] = []
    try:
        with partial.open("wb") as file:
            writer = StreamingPdfWriter(file)
            for letter in letters:
                manifest.append(_append(writer, letter, duplex))
            if not manifest:
                raise LetterError("a print batch needs at least one letter")
            writer.finish()
            file.flush()
            os.fsync(file.fileno())
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _append(writer: StreamingPdfWriter, letter: BatchLetter, duplex: bool) -> ManifestEntry:
    try:
        reader = PdfReader(io.BytesIO(letter.pdf))
        if len(reader.pages) == 0:
            raise LetterError(f"letter {letter.letter_id} has no pages")
        first_page = writer.page_count + 1
        sizes = writer.add_pages(reader)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LetterError(f"letter {letter.letter_id} is not a readable PDF: {exc}") from exc
    pages = len(sizes)
    writer.add_bookmark(f"{letter.case_reference} – {letter.recipient}", first_page - 1)
    if duplex and pages % 2:
        writer.add_blank_page(*sizes[-1])
    return ManifestEntry(
        letter_id=letter.letter_id,
        case_reference=letter.case_reference,
        pages=pages,
        sheets=sheets_for(pages, duplex=duplex),
        first_page=first_page,
        recipient=letter.recipient,
    )


class StreamingPdfWriter:
    """Writes a PDF object by object: pages copied from other PDFs (with everything they
    reference, renumbered), blank pages and bookmarks; :meth:`finish` writes the page tree,
    outline, catalogue and cross-reference table."""

    _CATALOG, _PAGES = 1, 2

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._offsets: list[int] = [0, -1, -1]  # by object number; 0 is the free head
        self._pages: list[int] = []
        self._bookmarks: list[tuple[str, int]] = []
        self._digest = hashlib.sha256()
        self._position = 0
        self._out(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def add_pages(self, reader: PdfReader) -> list[tuple[float, float]]:
        """Copy every page of ``reader``; returns their sizes (points)."""
        mapping: dict[tuple[int, int], int] = {}
        pending: list[tuple[int, IndirectObject]] = []
        page_objects = list(reader.pages)
        for page in page_objects:
            reference = page.indirect_reference
            if reference is not None:
                mapping[(reference.idnum, reference.generation)] = self._reserve()

        def remap(value: PdfObject | None) -> PdfObject:
            if isinstance(value, IndirectObject):
                key = (value.idnum, value.generation)
                if key not in mapping:
                    target = value.get_object()
                    if isinstance(target, DictionaryObject) and target.get("/Type") in (
                        "/Page",
                        "/Pages",
                    ):
                        return NullObject()  # another document's page: not copied
                    mapping[key] = self._reserve()
                    pending.append((mapping[key], value))
                return IndirectObject(mapping[key], 0, None)
            if isinstance(value, StreamObject):
                stream = value.__class__()
                stream._data = value._data
                for name, item in value.items():
                    if name != "/Length":
                        stream[NameObject(name)] = remap(item)
                return stream
            if isinstance(value, DictionaryObject):
                copied = DictionaryObject()
                for name, item in value.items():
                    copied[NameObject(name)] = remap(item)
                return copied
            if isinstance(value, ArrayObject):
                return ArrayObject(remap(item) for item in value)
            return NullObject() if value is None else value

        sizes = []
        for page in page_objects:
            copied = DictionaryObject()
            for name, item in page.items():
                if name != "/Parent":
                    copied[NameObject(name)] = remap(item)
            for name in _INHERITABLE:
                if name not in copied and (inherited := _inherited(page, name)) is not None:
                    copied[NameObject(name)] = remap(inherited)
            copied[NameObject("/Parent")] = IndirectObject(self._PAGES, 0, None)
            reference = page.indirect_reference
            number = (
                mapping[(reference.idnum, reference.generation)]
                if reference is not None
                else self._reserve()
            )
            self._object(number, copied)
            self._pages.append(number)
            box = page.mediabox
            sizes.append((float(box.width), float(box.height)))
            while pending:
                target, source = pending.pop()
                self._object(target, remap(source.get_object()))
        return sizes

    def add_blank_page(self, width: float = _A4[0], height: float = _A4[1]) -> None:
        page = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Page"),
                NameObject("/Parent"): IndirectObject(self._PAGES, 0, None),
                NameObject("/MediaBox"): ArrayObject(
                    [NumberObject(0), NumberObject(0), FloatObject(width), FloatObject(height)]
                ),
                NameObject("/Resources"): DictionaryObject(),
            }
        )
        number = self._reserve()
        self._object(number, page)
        self._pages.append(number)

    def add_bookmark(self, title: str, page_index: int) -> None:
        self._bookmarks.append((title, page_index))

    def finish(self) -> None:
        """The page tree, bookmarks, catalogue, cross-reference table and trailer."""
        catalog = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Catalog"),
                NameObject("/Pages"): IndirectObject(self._PAGES, 0, None),
            }
        )
        if self._bookmarks:
            catalog[NameObject("/Outlines")] = IndirectObject(self._outline(), 0, None)
        self._object(
            self._PAGES,
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Pages"),
                    NameObject("/Kids"): ArrayObject(
                        IndirectObject(number, 0, None) for number in self._pages
                    ),
                    NameObject("/Count"): NumberObject(len(self._pages)),
                }
            ),
        )
        self._object(self._CATALOG, catalog)
        info = self._reserve()
        self._object(
            info,
            DictionaryObject({NameObject("/Producer"): TextStringObject("Mailroom print batch")}),
        )
        assert all(offset >= 0 for offset in self._offsets[1:]), "an object was never written"
        xref_at = self._position
        size = len(self._offsets)
        lines = [b"xref\n", f"0 {size}\n".encode(), b"0000000000 65535 f \n"]
        lines += [f"{offset:010d} 00000 n \n".encode() for offset in self._offsets[1:]]
        self._out(b"".join(lines))
        identifier = self._digest.hexdigest()[:32]
        self._out(
            f"trailer\n<< /Size {size} /Root {self._CATALOG} 0 R /Info {info} 0 R"
            f" /ID [<{identifier}> <{identifier}>] >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
        )

    def _outline(self) -> int:
        root = self._reserve()
        items = [self._reserve() for _ in self._bookmarks]
        for index, ((title, page_index), number) in enumerate(
            zip(self._bookmarks, items, strict=True)
        ):
            item = DictionaryObject(
                {
                    NameObject("/Title"): TextStringObject(title),
                    NameObject("/Parent"): IndirectObject(root, 0, None),
                    NameObject("/Dest"): ArrayObject(
                        [IndirectObject(self._pages[page_index], 0, None), NameObject("/Fit")]
                    ),
                }
            )
            if index > 0:
                item[NameObject("/Prev")] = IndirectObject(items[index - 1], 0, None)
            if index < len(items) - 1:
                item[NameObject("/Next")] = IndirectObject(items[index + 1], 0, None)
            self._object(number, item)
        self._object(
            root,
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Outlines"),
                    NameObject("/First"): IndirectObject(items[0], 0, None),
                    NameObject("/Last"): IndirectObject(items[-1], 0, None),
                    NameObject("/Count"): NumberObject(len(items)),
                }
            ),
        )
        return root

    # ---- low level -------------------------------------------------------------------------

    def _reserve(self) -> int:
        self._offsets.append(-1)
        return len(self._offsets) - 1

    def _object(self, number: int, value: PdfObject) -> None:
        self._offsets[number] = self._position
        body = io.BytesIO()
        body.write(f"{number} 0 obj\n".encode())
        value.write_to_stream(body)
        body.write(b"\nendobj\n")
        self._out(body.getvalue())

    def _out(self, data: bytes) -> None:
        self._file.write(data)
        self._position += len(data)
        self._digest.update(data)


def _inherited(page: DictionaryObject, name: str) -> PdfObject | None:
    node = page.get("/Parent")
    seen = 0
    while node is not None and seen < 64:  # a page tree deeper than that is a loop
        resolved = node.get_object()
        if not isinstance(resolved, DictionaryObject):
            return None
        if name in resolved:
            value: PdfObject = resolved.raw_get(name)
            return value
        node = resolved.get("/Parent")
        seen += 1
    return None
