"""The exceptions symgrad raises; every one derives from SymgradError and ValueError."""


class SymgradError(Exception):
    """Base of every error symgrad raises on purpose."""


class GraphError(SymgradError, ValueError):
    """Tensors of different graphs mixed, or a node looked up that is not there."""


class ShapeError(SymgradError, ValueError):
    """Shapes or dtypes that an operation cannot take."""


class GradientError(SymgradError, ValueError):
    """A derivative that cannot be built."""


class FeedError(SymgradError, ValueError):
    """A value fed for a placeholder is missing, of the wrong shape or of the wrong dtype."""


class FormatError(SymgradError, ValueError):
    """A saved graph file that is malformed or of an unknown version."""


class ExpressionError(FormatError):
    """Expression text (as `symgrad diff` reads it) that cannot be parsed or is refused, or a
    graph that cannot be written as such text. `position` is the offending part of the text as
    (offset, length) in characters, or None."""

    def __init__(self, message: str, position: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.position = position


class NonFiniteError(SymgradError, ValueError):
    """check_finite found a NaN or an inf born at a node (its inputs held none)."""
