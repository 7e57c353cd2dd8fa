"""mmpanoptic's one error hierarchy.

Every error mmpanoptic raises about bad data, files or checkpoints is a
:class:`PanopticError` (a ``ValueError``), so a command-line tool catches one
class and prints one line.  The message names the file, the image and the
segment (or the checkpoint key) it is about.

- :class:`PanopticFileError`: a file is missing, unreadable or not the format
  it should be (PNG, JSON, video layout).
- :class:`PanopticAnnotationError`: a dataset's annotations disagree with
  themselves (JSON vs PNG, unknown category, duplicate segment).
- :class:`PanopticEvalError`: predictions that cannot be evaluated against
  the ground truth.
- :class:`ConversionError`: bad input to a dataset converter.
- :class:`CheckpointConversionError`: a checkpoint key with no counterpart in
  the model (checkpoint key maps of ``models/checkpoints``).

No third-party import: every layer may import this module.
"""


class PanopticError(ValueError):
    """Base of every mmpanoptic data, file and checkpoint error."""


class PanopticFileError(PanopticError):
    """A file is missing, unreadable or not in the expected format."""


class PanopticAnnotationError(PanopticError):
    """A panoptic annotation (JSON or PNG) is malformed or inconsistent."""


class PanopticEvalError(PanopticError):
    """Bad input to the PQ / VPQ / STQ evaluation."""


class ConversionError(PanopticError):
    """Bad input to a dataset converter."""


class CheckpointConversionError(PanopticError):
    """A checkpoint key with no known counterpart (or a missing one)."""


__all__ = ['PanopticError', 'PanopticFileError', 'PanopticAnnotationError',
           'PanopticEvalError', 'ConversionError', 'CheckpointConversionError']
