"""What can go wrong when a model leaves plait, each named."""


class ExportError(ValueError):
    """An export that cannot be done or cannot be trusted: an unknown format, a missing
    package, a model the exporter cannot trace, or a file whose outputs differ from the
    eager model's. The message names the format, the file and, where known, the output."""


class ExportMismatch(ExportError):
    """The written file runs, but its outputs differ from the eager model's beyond the
    tolerance: the file is not kept."""
