"""The contract of a processing step, after the paperless-ngx consume pipeline.

A pipeline is an ordered list of steps that share one mutable context. The runner asks each
step whether it applies to the context, runs it if so, and moves on. A step ends the chain
early and successfully by raising :class:`PipelineDoneError` (e.g. a real text layer makes OCR
unnecessary); any other exception stops the chain and propagates (``OcrError`` for a file
that cannot be read). Steps hold no state of their own between runs and read no settings
from the environment: everything they need is in the context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

ContextT = TypeVar("ContextT")
ContextT_contra = TypeVar("ContextT_contra", contravariant=True)


class PipelineDoneError(Exception):
    """Raised by a step when the context is complete and later steps must not run."""


class Step(Protocol[ContextT_contra]):
    """One stage of a pipeline."""

    @property
    def name(self) -> str: ...

    def applies(self, context: ContextT_contra) -> bool:
        """Whether this step has work to do for ``context``."""
        ...

    def run(self, context: ContextT_contra) -> None:
        """Do the work, recording results on ``context``."""
        ...


def run_pipeline(steps: Sequence[Step[ContextT]], context: ContextT) -> ContextT:
    """Run ``steps`` in order on ``context`` and return it."""
    for step in steps:
        if not step.applies(context):
            continue
        try:
            step.run(context)
        except PipelineDoneError:
            break
    return context
