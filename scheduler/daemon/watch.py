"""Noticing edits: a fingerprint of the files the service reads (``bodies/``,
``calendars/``, the contacts file), compared at every poll. Polling, not inotify: it works
the same on a network share, in a container volume and on every operating system."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(paths: Iterable[Path]) -> Fingerprint:
    """(path, size, modification time in ns) of every file under ``paths``."""
    found: list[tuple[str, int, int]] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            try:
                info = file.stat()
            except OSError:  # removed between listing and stat, or never there
                continue
            found.append((str(file), info.st_size, info.st_mtime_ns))
    return tuple(found)


class Watcher:
    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.seen = fingerprint(paths)

    def changed(self) -> bool:
        """Whether anything changed since the last call that said so."""
        now = fingerprint(self.paths)
        if now == self.seen:
            return False
        self.seen = now
        return True
