"""Where an export is written: a file whose suffix is its format's, never the checkpoint it
comes from nor a folder, and written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from plait.export.errors import ExportError

FORMATS = {"onnx": ".onnx", "torch_export": ".pt2"}


def output_format(path: Path, format: str | None, *, key: str = "path",
                  source: str | os.PathLike[str] | None = None) -> str:
    """The format to write `path` in, `path` checked before any work is done.

    An existing file at `path` of the format's suffix is replaced once the export passes
    its check (as Keras's `model.export` does); a file of any other suffix never is.

    Args:
        path: the file to write.
        format: `onnx` or `torch_export`; None: the one `path`'s suffix names.
        key: what `path` is called where the user gave it (`path`; `output` in export.py).
        source: the checkpoint file being exported, which is never written over.

    Returns:
        The format, whose suffix (`FORMATS`) `path` has.

    Raises:
        ExportError: an unknown format; `path` a folder, the checkpoint `source`, or a file
            whose suffix is not the format's (or, without a format, names none).
    """
    if format is not None and (not isinstance(format, str) or format not in FORMATS):
        raise ExportError(f"format: expected one of {list(FORMATS)}, received {format!r}")
    if path.is_dir():
        raise ExportError(f"{key}: expected a file to write, received the folder {path}; name a "
                          f"file in it, e.g. {path / ('model' + FORMATS[format or 'onnx'])}")
    if source is not None and path.resolve() == Path(source).resolve():
        raise ExportError(f"{key}: expected a file other than the checkpoint being exported, "
                          f"received {path}, the checkpoint itself")
    by_suffix = {suffix: name for name, suffix in FORMATS.items()}
    if format is None:
        if path.suffix.lower() not in by_suffix:
            raise ExportError(f"{key}: expected a file ending in .onnx (format onnx) or .pt2 "
                              f"(format torch_export), received {path}")
        return by_suffix[path.suffix.lower()]
    if path.suffix.lower() != FORMATS[format]:
        raise ExportError(f"{key}: expected a file ending in {FORMATS[format]} for "
                          f"format={format}, received {path}")
    return format


@contextlib.contextmanager
def staged(path: Path) -> Iterator[Path]:
    """A path to write `path`'s file to, in a temporary folder beside it. If the block ends
    without error, what was written there is renamed into `path`'s folder (`path` itself
    last, after any `.data` file an ONNX model keeps its weights in); if not, it is deleted
    and `path` is as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as folder:
        yield Path(folder) / path.name
        for written in sorted(Path(folder).iterdir(), key=lambda file: file.name == path.name):
            os.replace(written, path.parent / written.name)
