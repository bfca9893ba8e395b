"""A pinned wheel and caches built from it: verified, rebuilt when broken, never half-read."""

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from plait.data import fetch
from plait.data.fetch import (
    MANIFEST,
    CacheError,
    PinnedWheel,
    build_cached_dir,
    cached_dir_problem,
    fetch_wheel,
    read_member,
    require_cached_dir,
    sha256_file,
)


@pytest.fixture
def fake_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A wheel 'on the index': `_pip_download` copies it, counting the downloads."""
    source = tmp_path / "index" / "fake-1.0-py3-none-any.whl"
    source.parent.mkdir()
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("fake/data/values.txt", "1 2 3\n" * 1000)
    calls = []

    def download(spec: str, dest: Path, target: Path) -> Path:
        calls.append(spec)
        return Path(shutil.copy(source, dest))

    monkeypatch.setattr(fetch, "_pip_download", download)
    return PinnedWheel("fake", "1.0", sha256_file(source)), calls


def test_wheel_is_downloaded_once_and_verified(tmp_path, fake_index):
    wheel, calls = fake_index
    path = fetch_wheel(wheel, tmp_path / "cache")
    assert fetch_wheel(wheel, tmp_path / "cache") == path
    assert calls == ["fake==1.0"] and sha256_file(path) == wheel.sha256
    with zipfile.ZipFile(path) as zf:
        assert read_member(zf, "fake/data/values.txt").startswith(b"1 2 3")
        with pytest.raises(CacheError, match=r"no member 'fake/data/nope.txt'.*values\.txt"):
            read_member(zf, "fake/data/nope.txt")


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupted_wheel_is_downloaded_again(tmp_path, fake_index, damage):
    wheel, calls = fake_index
    path = fetch_wheel(wheel, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"x" + data[1:])
    assert fetch_wheel(wheel, tmp_path) == path
    assert len(calls) == 2 and sha256_file(path) == wheel.sha256


def test_a_wheel_not_matching_the_pin_is_refused(tmp_path, fake_index):
    wheel, _ = fake_index
    wrong = PinnedWheel("fake", "1.0", "0" * 64)
    with pytest.raises(CacheError, match=f"has sha256 {wheel.sha256}, but 0{{64}} is pinned"):
        fetch_wheel(wrong, tmp_path)
    assert not list((tmp_path / "wheels").iterdir())  # nothing half-trusted left behind


def test_pip_failure_says_where_to_put_the_wheel(tmp_path, monkeypatch):
    failed = subprocess.CompletedProcess([], 1, "", "ERROR: No matching distribution found")
    monkeypatch.setattr(fetch.subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(CacheError, match=r"(?s)could not download x==1.*No matching.*by hand"):
        fetch_wheel(PinnedWheel("x", "1", "0" * 64), tmp_path)


def _build(counter: list):
    def build(folder: Path) -> None:
        counter.append(folder)
        (folder / "a.bin").write_bytes(bytes(range(256)) * 40)
        (folder / "b.txt").write_text("hello")
    return build


def test_cached_dir_is_built_once(tmp_path):
    builds = []
    path = build_cached_dir(tmp_path / "ds", _build(builds))
    build_cached_dir(tmp_path / "ds", _build(builds))
    assert len(builds) == 1 and (path / MANIFEST).is_file()
    assert require_cached_dir(path, "T") == path
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temporary folders left


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda p: (p / "a.bin").write_bytes(b"\0" * 10240), "checksum"),
    (lambda p: (p / "a.bin").write_bytes(b"\0" * 100), "truncated"),
    (lambda p: (p / "b.txt").unlink(), "b.txt is missing"),
    (lambda p: (p / MANIFEST).unlink(), "never finished"),
    (lambda p: (p / MANIFEST).write_text("{"), "cannot be read"),
])
def test_broken_cache_is_named_then_rebuilt(tmp_path, damage, problem):
    builds = []
    path = build_cached_dir(tmp_path / "ds", _build(builds))
    damage(path)
    assert problem in cached_dir_problem(path)
    with pytest.raises(CacheError, match=f"T: the data cache cannot be used: .*{problem}.*prepare_data"):
        require_cached_dir(path, "T")
    build_cached_dir(path, _build(builds))
    assert len(builds) == 2 and cached_dir_problem(path) is None
    assert (path / "a.bin").read_bytes() == bytes(range(256)) * 40


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    def build(folder: Path) -> None:
        (folder / "half.bin").write_bytes(b"...")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        build_cached_dir(tmp_path / "ds", build)
    assert list(tmp_path.iterdir()) == []
