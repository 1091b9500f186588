"""The drop folders (the inbox, and the HTTPS spool): after their inputs are committed, they move
to <data>/processed/<date>/<folder>/.

Only the paths whose batch was committed are moved, so a file dropped in during a run waits for
the next one, and a crash leaves files in the inbox to be landed again as a no-op (same sha256,
same report key): redelivery, never loss.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from pipeline.settings import Settings


def _relative(source: Path, roots: list[Path]) -> Path | None:
    """The path below one of the drop folders (prefixed by that folder's name), or None."""
    resolved = source.parent.resolve() / source.name  # a symlink itself moves, not its target
    for root in roots:
        try:
            return Path(root.name) / resolved.relative_to(root.resolve())
        except ValueError:
            continue
    return None


def archive_processed(settings: Settings, committed_paths: set[str]) -> int:
    roots = list(settings.drop_folders())
    target_root = settings.data_dir / "processed" / datetime.now(timezone.utc).strftime("%Y-%m-%d")
    moved = 0
    for path in sorted(committed_paths):
        source = Path(path)
        relative = _relative(source, roots)
        if relative is None:
            continue  # not below a drop folder: never move a user's own files
        if not os.path.lexists(source):
            continue
        target = target_root / relative
        if os.path.lexists(target):
            target = target.with_name(f"{target.name}.{os.getpid()}-{moved}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        moved += 1
    return moved


def inbox_fingerprint(inbox: str) -> tuple[int, int]:
    """(number of waiting files, newest mtime in ns): changes whenever a file is dropped in. The
    inbox sensor's cursor, and `tlsrpt run`'s test for "nothing waits" (without loading Dagster)."""
    count, newest = 0, 0
    for folder, dirs, files in os.walk(inbox):
        dirs[:] = [d for d in dirs if not d.startswith(".") or os.path.isdir(os.path.join(folder, d, "cur"))]
        for name in files:
            if name.startswith(".") or name.endswith(".tmp"):
                continue
            try:
                newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime_ns)
            except FileNotFoundError:
                continue
            count += 1
    return count, newest
