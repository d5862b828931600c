"""HTML to PDF/A with WeasyPrint, set up once and reused for every letter.

What costs time besides the layout itself is set up once per :class:`PdfRenderer`: the font
configuration, the parsed stylesheets and an image cache. Resources are fetched only from
the directories the renderer was given (and ``data:`` URLs): a letter never reaches the
network or any other file.

WeasyPrint is not documented to be thread-safe; the process renders one letter at a time
(one lock for every renderer), so run several processes for more throughput.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from letters.models import LetterError

logger = logging.getLogger(__name__)

PDF_VARIANT = "pdf/a-2b"
# Pango and fontconfig under WeasyPrint are not thread-safe: one layout at a time in the
# process, whichever renderer (a process may hold several libraries, e.g. in tests).
_RENDER_LOCK = threading.Lock()


@functools.cache
def _weasyprint() -> Any:
    """WeasyPrint, imported on first use: it costs half a second, and most processes (the
    API, most workers, the CLI) never render a letter."""
    from PIL import ImageFile

    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    import weasyprint
    import weasyprint.text.fonts
    import weasyprint.urls

    # Importing WeasyPrint switches Pillow process-wide to accepting truncated images; the
    # intake relies on Pillow refusing them (a damaged scan is rejected, not half-read).
    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return weasyprint


@functools.cache
def _local_fetcher_class() -> type:
    weasyprint = _weasyprint()

    class LocalFetcher(weasyprint.URLFetcher):  # type: ignore[misc,name-defined]
        """Fetches ``file:`` URLs below the allowed directories and ``data:`` URLs only."""

        def __init__(self, roots: Sequence[Path]) -> None:
            super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=True)
            self._roots = tuple(root.resolve() for root in roots)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("file:"):
                path = Path(unquote(urlsplit(url).path)).resolve()
                if not any(path.is_relative_to(root) for root in self._roots):
                    raise LetterError(
                        f"letters may only use files of their template folders: {url}"
                    )
            elif not url.startswith("data:"):
                raise LetterError(f"letters may not fetch {url.split(':', 1)[0]} URLs")
            return super().fetch(url, headers)

    return LocalFetcher


class PdfRenderer:
    """Renders HTML documents with the given stylesheets to PDF/A (``pdf_variant``)."""

    def __init__(
        self,
        stylesheets: Sequence[Path],
        *,
        roots: Sequence[Path],
        pdf_variant: str = PDF_VARIANT,
    ) -> None:
        self.pdf_variant = pdf_variant
        self._lock = _RENDER_LOCK
        weasyprint = _weasyprint()
        self._weasyprint = weasyprint
        with self._lock:
            self._fonts = weasyprint.text.fonts.FontConfiguration()
            self._fetcher = _local_fetcher_class()(roots)
            self._css = [
                weasyprint.CSS(
                    filename=str(path), font_config=self._fonts, url_fetcher=self._fetcher
                )
                for path in stylesheets
            ]
        self._cache: dict[str, Any] = {}

    def render(self, html: str, *, base_url: Path) -> tuple[bytes, int]:
        """The PDF bytes and the page count of ``html`` (relative URLs from ``base_url``)."""
        with self._lock:
            try:
                document = self._weasyprint.HTML(
                    string=html, base_url=str(base_url) + "/", url_fetcher=self._fetcher
                ).render(font_config=self._fonts, stylesheets=self._css, cache=self._cache)
            except (
                self._weasyprint.urls.FatalURLFetchingError
            ) as exc:  # a missing image would leave a gap
                raise LetterError(f"{exc}: {exc.__cause__}") from exc
            pdf = document.write_pdf(pdf_variant=self.pdf_variant)
        assert isinstance(pdf, bytes)
        return pdf, len(document.pages)
