"""Safe file input: open only regular files, through one handle, with errors that name the real cause.

A path given by a user may be a device (/dev/zero never ends), a FIFO with no writer (open blocks
forever), a symlink loop or a folder. `open_regular` opens without blocking, checks what the open
handle is (not the path, which can change in between) and refuses anything but a regular file, so
the memory and time a read costs are bounded by the file's size.
"""

from __future__ import annotations

import errno
import os
import stat

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def os_error_text(exc: OSError, path: str) -> str:
    """'<path>: <cause>' from an OSError, with the errno's own words (a loop is not 'no such file')."""
    if exc.errno == errno.ENOENT:
        return f"no such file: '{path}'"
    cause = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    return f"cannot read '{path}': {cause}"


def kind_of(mode: int) -> str:
    """'a folder', 'a FIFO (named pipe)', 'a character device', ... for a file mode that is not a regular file."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str, where: str):
    """A binary file object for `path`, which must be a regular file; else an OSError or ValueError naming it.

    ENOENT becomes FileNotFoundError; other OS errors keep their class and name the file and the cause;
    a folder, device, FIFO or socket is a ValueError saying which it is.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)  # a FIFO must not block the open
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        error = (FileNotFoundError if exc.errno == errno.ENOENT else type(exc))(f"{where}: {os_error_text(exc, path)}")
        error.errno = exc.errno
        raise error from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{where}: '{path}' is {kind_of(mode)}, not a regular file; give a file on disk")
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str, where: str, limit: int | None = None) -> bytes:
    """All bytes of regular file `path` from one handle; over `limit` bytes is a ValueError naming the size."""
    with open_regular(path, where) as f:
        size = os.fstat(f.fileno()).st_size
        if limit is not None and size > limit:
            raise ValueError(f"{where}: '{path}' is {size:,} bytes, over the {limit:,}-byte limit")
        return f.read(size if limit is None else limit + 1)


def read_utf8_text(path: str, where: str, limit: int | None = None) -> str:
    """The UTF-8 text of regular file `path` (read once, at most `limit` bytes); bad bytes are a ValueError
    naming the file and the byte offset of the first one (a text-mode read reports a position in its buffer)."""
    data = read_regular(path, where, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: '{path}' is not UTF-8 text ({exc.reason}: byte 0x{data[exc.start]:02x} "
                         f"at byte offset {exc.start})") from None
