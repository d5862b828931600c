"""OCR library: bytes in, text, confidences, quality flags and a searchable PDF out.

No web framework, database, message bus or blob store here; the mailroom wires it up.
"""

from ocr.barcodes import read_qr_codes
from ocr.engine import OcrEngine
from ocr.models import OCR, TEXT_LAYER, OcrError, OcrOptions, OcrResult, PageResult, QualityFlag
from ocr.text_layer import read_text_layer

__all__ = [
    "OCR",
    "TEXT_LAYER",
    "OcrEngine",
    "OcrError",
    "OcrOptions",
    "OcrResult",
    "PageResult",
    "QualityFlag",
    "read_qr_codes",
    "read_text_layer",
]
