"""What a filesystem errno means for the operator, in words and a next step.

A full disk, a read-only mount and a permission problem need different fixes; one
place turns each errno into a short reason and a hint so every writer (Maildir,
feed build, directory host) says the same thing.
"""

from __future__ import annotations

import errno

_MEANING = {
    errno.ENOSPC: "no space left on the device (ENOSPC)",
    errno.EDQUOT: "the disk quota is exceeded (EDQUOT)",
    errno.EROFS: "the filesystem is mounted read-only (EROFS)",
    errno.EACCES: "permission denied (EACCES)",
    errno.EPERM: "operation not permitted (EPERM)",
    errno.EIO: "an input/output error on the device (EIO)",
}


def reason(exc: OSError) -> str:
    """The errno in words, e.g. ``no space left on the device (ENOSPC)``."""
    known = _MEANING.get(exc.errno or 0)
    if known is not None:
        return known
    return exc.strerror or str(exc) or type(exc).__name__


def hint(exc: OSError, target: str) -> str | None:
    """The next step for ``target`` (a folder, named by its config key), or None."""
    code = exc.errno or 0
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk holding {target} is full: free space there (or move it), then retry"
    if code == errno.EROFS:
        return f"{target} is on a read-only filesystem: remount it read-write or move it"
    if code in (errno.EACCES, errno.EPERM):
        return f"this user may not write {target}: fix its owner or permissions"
    return None
