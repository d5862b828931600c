"""Letters library: a city's Jinja2 templates in, PDF/A letters in the DIN 5008 layout out.

Plain inputs and outputs (a template folder, a mapping of data, a QR payload; PDF bytes);
nothing of the mailroom here. :mod:`letters.batch` joins letters into one print batch.
"""

from letters.library import TemplateLibrary
from letters.models import (
    FieldSpec,
    LetterError,
    MissingFieldError,
    RenderedLetter,
    TemplateDefinitionError,
    TemplateInfo,
    UnknownTemplateError,
)

__all__ = [
    "FieldSpec",
    "LetterError",
    "MissingFieldError",
    "RenderedLetter",
    "TemplateDefinitionError",
    "TemplateInfo",
    "TemplateLibrary",
    "UnknownTemplateError",
]
