"""The state's write lock: an OS file lock on a sidecar file, ``<state>.lock``, which names its holder.

The mutual exclusion is ``flock(2)`` on the sidecar, taken with the ``filelock`` library and
never waited for: a second writer is refused at once.  The kernel releases it when its holder
exits, however it exits (``kill -9``, OOM), so a dead holder never blocks anyone.  Checking it
needs no SQLite lock, so a writer is refused at once even while the holder is inside a long
transaction.

While held, the file holds one line of JSON that names the holder (lock ID, pid, host,
command, since when, and the process's start time), for the refusal message and for
``ecsctl state unlock LOCK_ID``; a clean release empties it.  A record found by whoever gets
the OS lock was left by a holder that did not release: on this host, if its process is gone
(or its pid now belongs to another process), it is stale and taken over with a note; a
holder on another host (where a network filesystem may not share file locks), or one whose
process still runs, still refuses.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ecsctl.core.state.ports import LockInfo
from ecsctl.errors import StateError

Fail = Callable[[str], StateError]
Note = Callable[[str], None]


def lock_path(state: Path) -> Path:
    """The lock file beside the state file itself: a link to the state (``ECSCTL_STATE`` pointing
    at a symlink, say) takes the same lock as its target, or two writers would both get one."""
    real = Path(os.path.realpath(state))
    return real.with_name(real.name + ".lock")


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the command name may hold spaces or ')'
    if len(fields) < 20 or fields[0] == "Z":  # a zombie has exited
        return "exited"
    return fields[19]


def _alive(pid: int, started: str | None) -> bool:
    """Whether the process that wrote a lock record still runs (not a new process with its pid)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    now = _start_time(pid)
    if now == "exited":
        return False
    return started is None or now is None or now == started


@dataclass(frozen=True)
class _Record:
    info: LockInfo
    started: str | None

    def to_text(self) -> str:
        i = self.info
        return json.dumps({"id": i.id, "pid": i.pid, "host": i.host, "command": i.command,
                           "created_at": i.created_at, "started": self.started}) + "\n"

    @staticmethod
    def parse(text: str) -> "_Record | None":
        try:
            data = json.loads(text)
            info = LockInfo(str(data["id"]), int(data["pid"]), str(data["host"]), str(data["command"]),
                            str(data["created_at"]))
        except (ValueError, KeyError, TypeError):
            return None
        started = data.get("started")
        return _Record(info, started if isinstance(started, str) else None)


class StateLock:
    """The write lock of one state file, as held (or not) by one store object."""

    def __init__(self, state: Path, fail: Fail, note: Note) -> None:
        self.path = lock_path(state)
        self._fail = fail
        self._note = note
        self._os_lock = None
        self._held: LockInfo | None = None
        self._made_file = False  # this holder created the sidecar (removed with a state never written)

    @property
    def held(self) -> LockInfo | None:
        return self._held

    # -- the record ----------------------------------------------------------------------------

    def _read(self) -> tuple[str, "_Record | None"]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "", None
        except OSError as exc:
            raise self._fail(f"cannot read the lock file {self.path.name}: {exc.strerror or exc}") from None
        return text, _Record.parse(text) if text.strip() else None

    def _write(self, text: str) -> None:
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.ftruncate(fd, 0)
            if text:
                os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)

    def holder(self) -> LockInfo | None:
        """Who holds (or last failed to release) the lock, from the record; None if free."""
        record = self._read()[1]
        return record.info if record else None

    # -- the OS lock ---------------------------------------------------------------------------

    def _try_os_lock(self) -> bool:
        """Take the OS lock without waiting; False if another process (or store) holds it."""
        import filelock

        lock = filelock.FileLock(self.path, mode=0o600, thread_local=False, preserve_lock_file=True)
        try:
            lock.acquire(blocking=False)
        except filelock.Timeout:
            return False
        except PermissionError as exc:
            raise self._fail(
                f"cannot write here: cannot create or lock {self.path.name} ({exc.strerror or exc}); "
                "the state can be read from this directory but not changed"
            ) from None
        except OSError as exc:
            raise self._fail(f"cannot lock the state: {self.path.name}: {exc.strerror or exc}") from None
        self._os_lock = lock
        return True

    def _drop_os_lock(self) -> None:
        lock, self._os_lock = self._os_lock, None
        if lock is not None:
            lock.release()

    def _refusal(self, record: "_Record | None", *, running: bool) -> StateError:
        if record is None:
            return self._fail("state is locked by another ecsctl that is starting or finishing; try again")
        info = record.info
        if running and info.host == socket.gethostname():
            return self._fail(f"state is locked: {info.describe()}; it is still running: wait for it to finish")
        return self._fail(
            f"state is locked: {info.describe()}; if that process is gone, run `ecsctl state unlock {info.id}`"
        )

    def _stale(self, record: _Record) -> bool:
        info = record.info
        if info.host != socket.gethostname():
            return False  # another host: its process cannot be checked from here
        if info.pid == os.getpid():
            return True  # we hold the OS lock, so not this process's: a store that was never closed
        return not _alive(info.pid, record.started)

    # -- holding -------------------------------------------------------------------------------

    def acquire(self, command: str) -> LockInfo:
        """Take the lock for ``command`` or fail at once naming the holder."""
        if self._held is not None:
            raise self._fail(f"this ecsctl already holds lock {self._held.id}")
        existed = os.path.lexists(self.path)
        if not self._try_os_lock():
            raise self._refusal(self._read()[1], running=True)
        try:
            previous = self._read()[1]
            if previous is not None:
                if not self._stale(previous):
                    raise self._refusal(previous, running=False)
                self._note(f"took over the lock left by a process that is gone: {previous.info.describe()}")
            info = LockInfo(id=str(uuid.uuid4()), pid=os.getpid(), host=socket.gethostname(),
                            command=command, created_at=_utc_now())
            self._write(_Record(info, _start_time(os.getpid())).to_text())
        except BaseException:
            self._drop_os_lock()
            raise
        self._held = info
        self._made_file = not existed
        return info

    def release(self, *, remove: bool = False) -> None:
        """Empty the record and release the OS lock (``remove``: delete the sidecar too, if this
        holder created it)."""
        if self._held is None:
            return
        try:
            if remove and self._made_file:
                self.path.unlink(missing_ok=True)  # while still locked, so no one locks a lost inode
            else:
                self._write("")
        finally:
            self._held = None
            self._drop_os_lock()

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Clear a lock that was not released, but only the one whose ID is given."""
        record = self._read()[1]
        if record is None:
            raise self._fail(f"state is not locked; nothing to unlock (asked for lock {lock_id})")
        if record.info.id != lock_id:
            raise self._fail(f"lock ID {lock_id} does not match the lock held: {record.info.describe()}")
        if not self._try_os_lock():
            raise self._fail(
                f"cannot unlock: {record.info.describe()} is held right now by a running process; "
                "wait for it to finish or stop it"
            )
        try:
            current = self._read()[1]
            if current is None or current.info.id != lock_id:  # released meanwhile
                raise self._fail(f"state is not locked by {lock_id} any more; nothing to unlock")
            self._write("")
        finally:
            self._drop_os_lock()
        return record.info
