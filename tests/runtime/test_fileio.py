"""fileio: the one atomic writer (temp file, fsync, rename, fsync folder) and the writable-path check."""

import os
import stat

import pytest

from tinytorch.runtime import fileio
from tinytorch.runtime.fileio import atomic_write, check_writable, short_list


def test_writes_bytes_and_utf8_text(tmp_path):
    atomic_write(tmp_path / "a.bin", b"\x00\x01")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert atomic_write(tmp_path / "b.txt", "caf\u00e9") == str(tmp_path / "b.txt")
    assert (tmp_path / "b.txt").read_bytes() == "caf\u00e9".encode("utf-8")
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "b.txt"]


def test_new_files_get_ordinary_permissions(tmp_path):
    atomic_write(tmp_path / "f", b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "f").st_mode) == 0o666 & ~mask


def test_the_file_and_its_folder_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", recording_fsync)
    atomic_write(tmp_path / "f", b"data")
    assert synced == [False, True]  # the file first, then the folder holding the rename


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch, fail_at):
    target = tmp_path / "keep.txt"
    target.write_text("old")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, fail_at, fail)
    with pytest.raises(OSError) as info:
        atomic_write(target, "new")
    monkeypatch.undo()
    assert str(target) in str(info.value) and "No space left on device" in str(info.value)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["keep.txt"]


def test_an_interrupt_mid_write_leaves_no_temp(tmp_path, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "f", b"x")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_bad_data_and_bad_places_are_named(tmp_path):
    with pytest.raises(TypeError, match="data must be bytes or str, got int"):
        atomic_write(tmp_path / "f", 3)
    with pytest.raises(OSError, match="missing"):
        atomic_write(tmp_path / "missing" / "f", b"x")
    (tmp_path / "adir").mkdir()
    with pytest.raises(OSError) as info:
        atomic_write(tmp_path / "adir", b"x")
    assert f"cannot write '{tmp_path / 'adir'}'" in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["adir"] and os.listdir(tmp_path / "adir") == []


def test_check_writable(tmp_path):
    assert check_writable(tmp_path / "out.safetensors") == str(tmp_path / "out.safetensors")
    with pytest.raises(ValueError, match=r"cannot write '.*sub': it is a folder"):
        (tmp_path / "sub").mkdir()
        check_writable(tmp_path / "sub")
    with pytest.raises(ValueError, match="the folder '.*nowhere' does not exist"):
        check_writable(tmp_path / "nowhere" / "out.safetensors")
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ValueError, match="the folder '.*plain' is a file, not a folder"):
        check_writable(tmp_path / "plain" / "out.safetensors")


def test_check_writable_leaves_no_probe_file(tmp_path):
    check_writable(tmp_path / "out.safetensors")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_check_writable_refuses_a_folder_where_files_cannot_be_created():
    # Permission bits allow root everything; /proc still refuses new files, as a read-only mount does.
    with pytest.raises(ValueError, match=r"cannot write '/proc/out.safetensors': the folder '/proc' is not writable \("):
        check_writable("/proc/out.safetensors")


def test_check_writable_reports_a_read_only_file_system(tmp_path, monkeypatch):
    import errno

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(ValueError, match="is not writable .Read-only file system."):
        check_writable(tmp_path / "out.safetensors")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_check_writable_refuses_a_read_only_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="is not writable"):
            check_writable(locked / "out.safetensors")
    finally:
        locked.chmod(0o700)


def test_short_list_bounds_what_it_shows():
    assert short_list(["a", "b"]) == "['a', 'b']"
    assert short_list(range(300_000)) == "['0', '1', '2', '3', '4'] and 299995 more"
    assert len(short_list(["x" * 10 ** 6])) < 80


@pytest.mark.parametrize("bad", [123, None, 2.5, b"/tmp/x", ["a"]])
def test_every_path_taking_function_names_a_bad_path(bad):
    import tinytorch

    calls = {
        "atomic_write": lambda: atomic_write(bad, b"x"),
        "check_writable": lambda: check_writable(bad),
        "save_checkpoint": lambda: tinytorch.save_checkpoint(bad, tinytorch.Linear(2, 2)),
        "load_checkpoint": lambda: tinytorch.load_checkpoint(bad),
        "load_pretrained": lambda: tinytorch.load_pretrained(bad),
    }
    for where, call in calls.items():
        with pytest.raises(TypeError, match=f"{where}: path must be a str or os.PathLike, got "):
            call()
