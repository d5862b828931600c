"""``mailroom ocr`` — owned by the OCR work (issue 4)."""
