"""Line-numbered reading of (optionally gzip-compressed) text files and fast parsing of atom tables.

Every error raised here names the file and the 1-based line number, so a truncated or malformed file is
diagnosed where it breaks. Tables are parsed in blocks of lines with pandas' C parser (about 0.5 µs per line),
never as one Python list of all tokens, so memory stays proportional to the block.
"""

from __future__ import annotations

import gzip
import io
import os
import warnings
from pathlib import Path

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"
BLOCK_LINES = 1 << 19  # lines parsed per pandas call


class FileFormatError(ValueError):
    """A file that cannot be read as the format it claims: the message names the file and the line."""


def open_binary(path: str | os.PathLike):
    """Open ``path`` for binary line reading, transparently decompressing gzip (detected by content)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")


def head_lines(path: str | os.PathLike, n: int = 4) -> list[str]:
    """The first ``n`` lines of a (possibly gzipped) text file, decoded leniently (for format detection)."""
    out = []
    with open_binary(path) as fh:
        for _ in range(n):
            line = fh.readline()
            if not line:
                break
            out.append(line.decode("utf-8", errors="replace").rstrip("\r\n"))
    return out


class LineReader:
    """Reads lines of a binary file handle and counts them (``lineno`` = number of the last line read)."""

    def __init__(self, fh, path):
        self.fh = fh
        self.path = Path(path)
        self.lineno = 0

    def error(self, message: str, lineno: int | None = None) -> FileFormatError:
        return FileFormatError(f"{self.path}: line {self.lineno if lineno is None else lineno}: {message}")

    def readline(self) -> str | None:
        """Next line without its end-of-line characters, or None at the end of the file."""
        raw = self.fh.readline()
        if not raw:
            return None
        self.lineno += 1
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def expect_line(self, what: str) -> str:
        line = self.readline()
        if line is None:
            raise FileFormatError(f"{self.path}: line {self.lineno + 1}: file ends where {what} was expected")
        return line

    def read_table(
        self, n_rows: int, columns: list[str], what: str, comment: str | None = None
    ) -> dict[str, np.ndarray]:
        """Parse the next ``n_rows`` lines as whitespace-separated columns ``columns``.

        Returns {column: array}: float64 for numeric columns, str for columns holding text (e.g. element names).
        Raises :class:`FileFormatError` with the line number on a short file, a wrong field count or a bad value.
        ``comment``: a character starting a trailing comment (LAMMPS data files: '#').
        """
        import pandas as pd

        ncol = len(columns)
        parts: list = []
        done = 0
        while done < n_rows:
            k = min(BLOCK_LINES, n_rows - done)
            first = self.lineno + 1
            lines = [self.fh.readline() for _ in range(k)]
            got = k
            while got and not lines[got - 1]:
                got -= 1
            if got < k:
                lines = lines[:got]
            self.lineno += got
            if got < k:
                self._check_lines(lines, first, ncol, columns, comment)
                raise FileFormatError(
                    f"{self.path}: line {self.lineno + 1}: file ends after {done + got} of the {n_rows} {what} "
                    f"announced (truncated file?)"
                )
            self._check_lines(lines[:1], first, ncol, columns, comment)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    frame = pd.read_csv(
                        io.BytesIO(b"".join(lines)),
                        sep=r"\s+",
                        header=None,
                        names=range(ncol),
                        index_col=False,
                        engine="c",
                        comment=comment,
                    )
            except Exception:  # wrong field count, stray quote, ...: find the line
                self._check_lines(lines, first, ncol, columns, comment)
                raise self.error(f"cannot parse the {what} block", first) from None
            if len(frame) != k or frame.isna().to_numpy().any():
                self._check_lines(lines, first, ncol, columns, comment)
                bad = int(np.flatnonzero(frame.isna().to_numpy().any(axis=1))[0]) if len(frame) == k else 0
                raise self.error(f"missing or NaN value in the {what} block", first + bad)
            parts.append(frame)
            done += k
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        out = {}
        for c, name in enumerate(columns):
            col = frame[c]
            if col.dtype.kind in "fiu":
                out[name] = col.to_numpy(dtype=np.float64)
            else:
                out[name] = col.to_numpy().astype(str)
        return out

    def _check_lines(self, lines, first: int, ncol: int, columns, comment: str | None = None) -> None:
        """Raise for the first line of ``lines`` that does not hold ``ncol`` fields."""
        for k, raw in enumerate(lines):
            words = (raw.split(comment.encode())[0] if comment else raw).split()
            if len(words) != ncol:
                raise FileFormatError(
                    f"{self.path}: line {first + k}: expected {ncol} fields ({' '.join(columns)}), "
                    f"found {len(words)}: {raw.decode('utf-8', errors='replace').strip()[:80]!r}"
                )


def numeric_column(table: dict, name: str, path, first_line: int, dtype=float) -> np.ndarray:
    """Column ``name`` of a parsed table as numbers; a text value raises naming the file and its line."""
    col = table[name]
    if col.dtype.kind == "f":
        values = col
    else:
        try:
            values = col.astype(float)
        except ValueError:
            bad = next(k for k, v in enumerate(col) if not _is_number(v))
            raise FileFormatError(
                f"{path}: line {first_line + bad}: column {name!r} holds {str(col[bad])!r}, not a number"
            ) from None
    if dtype is int:
        rounded = np.rint(values)
        if not np.array_equal(rounded, values):
            bad = int(np.flatnonzero(rounded != values)[0])
            raise FileFormatError(
                f"{path}: line {first_line + bad}: column {name!r} holds {values[bad]}, not an integer"
            )
        return rounded.astype(np.int64)
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def labels_to_ints(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer ids 1..k for text labels (sorted order) and the label of each id."""
    names, inverse = np.unique(labels, return_inverse=True)
    return inverse.astype(np.int64) + 1, [str(n) for n in names]
