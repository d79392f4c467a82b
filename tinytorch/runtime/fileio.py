"""Safe file output: one atomic writer for every file tinytorch saves, and a check before long work.

`atomic_write` never leaves a half-written file under the final name: it writes a temporary file in
the same folder, fsyncs it, renames it over the target (atomic on POSIX and Windows) and fsyncs the
folder so the rename itself survives a power cut. Also here: `short_list`, which keeps error messages
about untrusted files short however many names the file holds.
"""

from __future__ import annotations

import os
import uuid


def as_path(path, where: str) -> str:
    """`path` (a str or os.PathLike naming a text path) as a str; anything else is a TypeError naming `where`."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"{where}: path must be a str or os.PathLike, got {path!r:.60} ({type(path).__name__})")
    return path


def short_list(names, limit: int = 5, width: int = 60) -> str:
    """At most `limit` names (each cut to `width` characters) and 'and N more': bounded error messages."""
    names = list(names)
    shown = ", ".join(repr(str(name)[:width]) for name in names[:limit])
    return f"[{shown}]" + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _fsync_directory(directory: str) -> None:
    """Make a rename durable where the platform allows opening a folder (not Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(path) -> str:
    """Raise ValueError naming `path` unless a file can be written there; returns the path as a str.

    The parent folder must exist and be writable, and `path` must not be a folder. Call it before
    long work (training) so a bad output path fails at once, not after an hour.
    """
    path = as_path(path, "check_writable")
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"cannot write '{path}': it is a folder")
    if not os.path.isdir(directory):
        cause = "is a file, not a folder" if os.path.exists(directory) else "does not exist"
        raise ValueError(f"cannot write '{path}': the folder '{directory}' {cause}")
    # Create (and remove) a probe file: permission bits say nothing for root, read-only mounts or /proc.
    probe = os.path.join(directory, f".tinytorch-write-check-{uuid.uuid4().hex}")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise ValueError(f"cannot write '{path}': the folder '{directory}' is not writable ({exc.strerror})") from None
    os.remove(probe)
    return path


def atomic_write(path, data: bytes | str) -> str:
    """Write `data` (str is UTF-8 encoded) to `path` atomically; returns the path as a str.

    On failure the target is unchanged, the temporary file is removed, and the OSError names the
    path and the cause (e.g. 'No space left on device').
    """
    path = as_path(path, "atomic_write")
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"atomic_write: data must be bytes or str, got {type(data).__name__}")
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0o666 & umask, like open()
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise OSError(exc.errno, f"cannot write '{path}': {exc.strerror or exc}") from None
    except BaseException:  # KeyboardInterrupt mid-write: leave no temporary file behind
        _remove_quietly(tmp)
        raise
    _fsync_directory(directory)
    return path


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
