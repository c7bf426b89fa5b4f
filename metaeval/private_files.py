"""Files and folders readable by their owner only: everything the tools create holds data or secrets.

Databases and their ``-wal``/``-shm`` files (SQLite gives those the database file's mode), backups,
key files, exports and judge outputs are created ``0600``, the folders made for them ``0700``.
Existing files and folders keep their mode (an owner may have opened them up on purpose).

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> f = private_file(root / "a" / "b" / "data.db")
    >>> oct(f.stat().st_mode & 0o777), oct(f.parent.stat().st_mode & 0o777)
    ('0o600', '0o700')
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FILE_MODE", "DIR_MODE", "PRIVATE_UMASK", "private_dir", "private_file"]

FILE_MODE = 0o600
DIR_MODE = 0o700
#: The process umask the command lines set: whatever else they create is private too.
PRIVATE_UMASK = 0o077


def private_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` and its missing parents with mode 0700 (existing ones are left alone)."""
    path = Path(path).expanduser()
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: str | os.PathLike) -> Path:
    """Create an empty ``path`` with mode 0600 unless it exists (its folders via :func:`private_dir`)."""
    path = Path(path).expanduser()
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path
