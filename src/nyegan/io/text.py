"""Line-numbered reading of (optionally gzip-compressed) text files and fast parsing of atom tables.

Every error raised here names the file and the 1-based line number, so a truncated or malformed file is
diagnosed where it breaks. Files are read through one buffer in large binary chunks; a table is cut out of it in
blocks of lines (the end of a block found with one vectorised newline search, no per-line Python work) and
parsed with pandas' C parser (about 0.25 µs per line for single-space separated numbers, the layout LAMMPS
writes; other layouts take the whitespace parser, about 0.35 µs per line), never as one Python list of all
tokens, so memory stays proportional to the block.
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
READ_BYTES = 1 << 20  # smallest chunk read from the file at a time


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
    """Reads lines of a binary file handle through a buffer and counts them (``lineno`` = number of the last line
    read)."""

    def __init__(self, fh, path):
        self.fh = fh
        self.path = Path(path)
        self.lineno = 0
        self._buf = b""
        self._pos = 0  # start of the unread part of the buffer
        self._last_start = None  # start of the line last returned by readline (in the buffer)
        self._eof = False

    def error(self, message: str, lineno: int | None = None) -> FileFormatError:
        return FileFormatError(f"{self.path}: line {self.lineno if lineno is None else lineno}: {message}")

    def _read_more(self, n_bytes: int) -> None:
        """Append at least ``n_bytes`` (or the rest of the file) to the unread part of the buffer."""
        chunk = self.fh.read(max(int(n_bytes), READ_BYTES))
        if not chunk:
            self._eof = True
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        self._last_start = None

    def readline(self) -> str | None:
        """Next line without its end-of-line characters, or None at the end of the file."""
        end = self._buf.find(b"\n", self._pos)
        while end < 0 and not self._eof:
            self._read_more(READ_BYTES)
            end = self._buf.find(b"\n", self._pos)
        if end < 0:
            end = len(self._buf)
            if end == self._pos:
                return None
        raw = self._buf[self._pos : end]
        self._last_start = self._pos
        self._pos = end + 1
        self.lineno += 1
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    def unread_line(self) -> None:
        """Step back over the line just returned by :meth:`readline` (it will be read again)."""
        if self._last_start is None:
            raise RuntimeError("unread_line() must follow readline()")
        self._pos, self._last_start = self._last_start, None
        self.lineno -= 1

    def read_lines(self, k: int) -> tuple[bytes, int]:
        """The next ``k`` lines as one bytes block (each ending in a newline) and the number of lines it holds:
        ``k``, or fewer at the end of the file. Advances ``lineno``."""
        while True:
            newlines = np.flatnonzero(np.frombuffer(self._buf, dtype=np.uint8, offset=self._pos) == 10)
            have = len(newlines)
            if have >= k or self._eof:
                break
            per_line = (len(self._buf) - self._pos) / have if have else 64.0
            self._read_more((k - have) * per_line * 1.05 + 4096)
        if have >= k:
            end = self._pos + int(newlines[k - 1]) + 1
            got = k
        else:  # the file ends: its last line may lack the newline
            end = len(self._buf)
            got = have + int(end > self._pos and self._buf[-1:] != b"\n")
        block = self._buf[self._pos : end]
        if got > have:
            block += b"\n"
        self._pos = end
        self._last_start = None
        self.lineno += got
        return block, got

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
        ncol = len(columns)
        parts: list[list[np.ndarray]] = []  # per block, one array per column
        done = 0
        while done < n_rows:
            k = min(BLOCK_LINES, n_rows - done)
            first = self.lineno + 1
            block, got = self.read_lines(k)
            if got < k:
                self._check_lines(block.splitlines(), first, ncol, columns, comment)
                raise FileFormatError(
                    f"{self.path}: line {self.lineno + 1}: file ends after {done + got} of the {n_rows} {what} "
                    f"announced (truncated file?)"
                )
            table = _parse_single_spaced(block, ncol, k) if comment is None else None
            if table is not None:
                parts.append([table[:, c] for c in range(ncol)])
            else:
                frame = self._parse_whitespace(block, first, ncol, k, columns, what, comment)
                parts.append([_column_array(frame[c]) for c in range(ncol)])
            done += k
        if not parts:
            return {name: np.empty(0) for name in columns}
        return {name: _concatenate([p[c] for p in parts]) for c, name in enumerate(columns)}

    def _parse_whitespace(self, block: bytes, first: int, ncol: int, k: int, columns, what: str, comment):
        """Parse ``k`` lines separated by any whitespace; errors name the line."""
        import pandas as pd

        self._check_lines(block.split(b"\n", 1)[:1], first, ncol, columns, comment)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                frame = pd.read_csv(
                    io.BytesIO(block),
                    sep=r"\s+",
                    header=None,
                    names=range(ncol),
                    index_col=False,
                    engine="c",
                    comment=comment,
                )
        except Exception:  # wrong field count, stray quote, ...: find the line
            self._check_lines(block.splitlines(), first, ncol, columns, comment)
            raise self.error(f"cannot parse the {what} block", first) from None
        if len(frame) != k or frame.isna().to_numpy().any():
            self._check_lines(block.splitlines(), first, ncol, columns, comment)
            bad = int(np.flatnonzero(frame.isna().to_numpy().any(axis=1))[0]) if len(frame) == k else 0
            raise self.error(f"missing or NaN value in the {what} block", first + bad)
        return frame

    def _check_lines(self, lines, first: int, ncol: int, columns, comment: str | None = None) -> None:
        """Raise for the first line of ``lines`` that does not hold ``ncol`` fields."""
        for k, raw in enumerate(lines):
            words = (raw.split(comment.encode())[0] if comment else raw).split()
            if len(words) != ncol:
                raise FileFormatError(
                    f"{self.path}: line {first + k}: expected {ncol} fields ({' '.join(columns)}), "
                    f"found {len(words)}: {raw.decode('utf-8', errors='replace').strip()[:80]!r}"
                )


def _parse_single_spaced(block: bytes, ncol: int, k: int) -> np.ndarray | None:
    """``k`` lines of ``ncol`` numbers separated by single spaces (as LAMMPS writes them) as a float64 table
    (k, ncol), or None when the block is laid out otherwise (several spaces, tabs, text, a missing field or NaN:
    the whitespace parser takes it then)."""
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            frame = pd.read_csv(
                io.BytesIO(block), sep=" ", header=None, names=range(ncol), index_col=False, engine="c", na_filter=False
            )
        if len(frame) != k or frame.shape[1] != ncol:
            return None
        table = frame.to_numpy(dtype=np.float64)  # a text field (a missing one reads as '') raises here
    except Exception:  # any trouble: the whitespace parser reads the block and names a bad line
        return None
    return None if np.isnan(table).any() else table


def _column_array(col) -> np.ndarray:
    """A parsed column as float64 numbers, or as str when it holds text."""
    return col.to_numpy(dtype=np.float64) if col.dtype.kind in "fiu" else col.to_numpy().astype(str)


def _concatenate(blocks: list[np.ndarray]) -> np.ndarray:
    """One column from its blocks (text wins: a numeric block joins a text column as str)."""
    if len(blocks) == 1:
        return blocks[0]
    if any(b.dtype.kind not in "fiu" for b in blocks):
        return np.concatenate([b.astype(str) for b in blocks])
    return np.concatenate(blocks)


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


def iter_frames(path: str | os.PathLike, read_frame, what: str):
    """Frames of a multi-frame text file (plain or gzip), one at a time: ``read_frame(reader, index)`` returns the
    next frame or None at the end of the file; an empty file is a FileFormatError ("not <what>")."""
    path = Path(path)
    with open_binary(path) as fh:
        reader = LineReader(fh, path)
        index = 0
        while True:
            frame = read_frame(reader, index)
            if frame is None:
                if index == 0:
                    raise FileFormatError(f"{path}: line 1: empty file, not {what}")
                return
            yield frame
            index += 1


def frame_at(frames, index: int, path, word: str = "frame"):
    """The structure of frame number ``index`` (from 0) of ``frames``; ValueError naming the file if it has none."""
    for frame in frames:
        if frame.index == index:
            return frame.structure
    raise ValueError(f"{path}: has no {word} number {index} (counting from 0)")
