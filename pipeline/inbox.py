"""The drop folder: after its inputs are committed, they move to <data>/processed/<date>/.

Only the paths whose batch was committed are moved, so a file dropped in during a run waits for
the next one, and a crash leaves files in the inbox to be landed again as a no-op (same sha256,
same report key): redelivery, never loss.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from pipeline.settings import Settings


def archive_processed(settings: Settings, committed_paths: set[str]) -> int:
    inbox = settings.inbox_dir.resolve()
    target_root = settings.data_dir / "processed" / datetime.now(timezone.utc).strftime("%Y-%m-%d")
    moved = 0
    for path in sorted(committed_paths):
        source = Path(path)
        try:
            relative = source.resolve(strict=False).relative_to(inbox) if not source.is_symlink() else Path(source.name)
        except ValueError:
            continue  # not below the inbox: never move a user's own files
        if not os.path.lexists(source):
            continue
        target = target_root / relative
        if os.path.lexists(target):
            target = target.with_name(f"{target.name}.{os.getpid()}-{moved}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        moved += 1
    return moved
