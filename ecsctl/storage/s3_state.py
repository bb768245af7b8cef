"""The state file kept in S3 (``--state s3://bucket/key``), shared by a team.

The state stays the SQLite database of ``sqlite_store`` — same schema, serial, lineage,
stale-plan rules and error messages — but its home is an S3 object:

* **Cache.** Opening downloads the object into a private temporary directory (mode 0700) and
  opens it with ``SqliteStateStore``; closing deletes the copy.
* **Upload after every committed change.** When a transaction (or a write outside one)
  commits and moved the serial, a consistent snapshot of the database (SQLite's backup API,
  WAL included) is uploaded with a *conditional write*: ``If-Match`` the ETag this store last
  read or wrote (``If-None-Match: *`` when the object did not exist). Anyone else's upload in
  between makes S3 answer 412 and this store stops with one line: nothing is overwritten, the
  local copy is kept and named.
* **Lock.** ``<key>.lock`` beside the state, created with ``If-None-Match: *`` (S3 conditional
  writes: only one writer can create it), holding the lock's id, pid, host, command and time.
  A second writer on any machine is refused at once with who holds it and how to break it
  (``ecsctl state unlock ID --state s3://…``, which deletes the lock object only when the ID
  matches). Taking the lock downloads the state again, so the holder works on the newest one;
  a transaction of a store that does not hold the lock is refused while someone else does.
  The lock never goes into the SQLite file itself.
* **Backups.** Every upload is a new object version when the bucket has versioning enabled,
  which this store requires before it writes (``ECSCTL_STATE_S3_UNVERSIONED=1`` waives it);
  restore one with ``aws s3api get-object --version-id`` and ``ecsctl state push``.

Credentials, region and endpoint come from the standard AWS environment (``AWS_PROFILE``,
``AWS_REGION``, ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``, …), with botocore's standard
retry mode. boto3 is imported lazily, here and in ``backends/aws`` only.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from ecsctl.core.state.ports import LockInfo
from ecsctl.errors import StateError

SCHEME = "s3://"
LOCK_SUFFIX = ".lock"
UNVERSIONED_ENV = "ECSCTL_STATE_S3_UNVERSIONED"
_WRITES = frozenset({"put_resource", "delete_resource", "put_sources", "set_backend", "insert", "update", "save",
                     "delete", "add_service_event", "set_clock", "import_", "next_revision"})


def is_s3(path: str) -> bool:
    return str(path).startswith(SCHEME)


def parse(url: str) -> tuple[str, str]:
    rest = url[len(SCHEME):]
    bucket, _, key = rest.partition("/")
    if not bucket or not key or key.endswith("/"):
        raise StateError(f"{url}: an S3 state is named s3://BUCKET/KEY (for example s3://acme-ecsctl/prod/state.db)")
    return bucket, key


@dataclass
class Connection:
    """How the S3 state reaches S3 when a command says (``--profile``, ``--region``,
    ``--endpoint-url`` of ``--backend aws``): the same account and endpoint as the ECS calls.
    Unset, boto3's environment and profile decide, as for any AWS CLI."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


_CONNECTION = Connection()


def connect_as(profile: str | None = None, region: str | None = None, endpoint_url: str | None = None) -> None:
    """Reach S3 with this profile, region and endpoint from now on in this process."""
    global _CONNECTION
    _CONNECTION = Connection(profile, region, endpoint_url)


def _client():
    try:
        import boto3
        import botocore.config
        import botocore.exceptions as bx
    except ImportError:
        raise StateError("an s3:// state needs boto3: pip install 'ecsctl[aws]'") from None

    chosen = _CONNECTION
    # AWS_ENDPOINT_URL_S3 names S3's own endpoint; else the command's, else AWS_ENDPOINT_URL (boto3 reads it)
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or chosen.endpoint_url
    config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 8}, user_agent_extra="ecsctl",
                                    s3={"addressing_style": "path"} if endpoint or os.environ.get("AWS_ENDPOINT_URL") else None)
    try:
        session = boto3.session.Session(profile_name=chosen.profile, region_name=chosen.region)
        return session.client("s3", config=config, endpoint_url=endpoint)
    except bx.ProfileNotFound:
        raise StateError(f"AWS profile '{chosen.profile}' is not in the AWS config or credentials file") from None
    except ValueError as exc:  # botocore: "Invalid endpoint: ..."
        raise StateError(f"the S3 state's endpoint is not a URL such as https://s3.eu-west-1.amazonaws.com ({exc})") from None


def _code(exc: Any) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class S3StateStore:
    """A ``StateStore`` whose file lives in S3 (see the module docstring); reads go to the local copy."""

    def __init__(self, url: str, *, create: bool = True, client: Any = None) -> None:
        from ecsctl.storage.sqlite_store import SqliteStateStore

        self.url = url
        self.bucket, self.key = parse(url)
        self.lock_key = self.key + LOCK_SUFFIX
        self._s3 = client or _client()
        self._dir = Path(tempfile.mkdtemp(prefix="ecsctl-s3-state-"))
        os.chmod(self._dir, 0o700)
        self.path = self._dir / "state.db"
        self._keep = False
        self._lock: LockInfo | None = None
        self._lock_etag: str | None = None
        self._versioning_checked = False
        self._store_type = SqliteStateStore
        self._inner = None
        try:
            self._etag = self._download()
            if self._etag is None and not create:
                raise StateError(f"{url}: no state object here; run `ecsctl apply` first or check --state")
            self._inner = SqliteStateStore(self.path, create=True)
            self._uploaded = self._inner.meta().serial if self._etag is not None else 0
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise

    # -- S3 ---------------------------------------------------------------------------------

    def _call(self, what: str, fn, **params):
        import botocore.exceptions as bx

        try:
            return fn(Bucket=self.bucket, **params)
        except bx.ClientError as exc:
            code = _code(exc)
            if code in ("AccessDenied", "AllAccessDisabled", "403"):
                raise StateError(f"{self.url}: access denied: the credentials may not {what} "
                                 f"(s3:{fn.__name__}) in bucket {self.bucket}") from None
            if code in ("NoSuchBucket",):
                raise StateError(f"{self.url}: the bucket {self.bucket} does not exist") from None
            raise
        except (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError):
            raise StateError(f"{self.url}: no AWS credentials found for the S3 state: set AWS_PROFILE or "
                             "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`") from None
        except (bx.EndpointConnectionError, bx.ConnectTimeoutError) as exc:
            raise StateError(f"{self.url}: cannot reach S3 ({exc})") from None

    def _download(self) -> str | None:
        """Fetch the state object into the cache; its ETag, or None when there is none yet."""
        import botocore.exceptions as bx

        try:
            answer = self._call("read the state", self._s3.get_object, Key=self.key)
        except bx.ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StateError(f"{self.url}: cannot read the state ({_code(exc)})") from None
        data = answer["Body"].read()
        for side in ("-wal", "-shm"):
            Path(str(self.path) + side).unlink(missing_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return answer["ETag"]

    def _snapshot(self) -> bytes:
        copy = self._dir / "upload.db"
        copy.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(copy)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        data = copy.read_bytes()
        copy.unlink()
        return data

    def _check_versioning(self) -> None:
        if self._versioning_checked or os.environ.get(UNVERSIONED_ENV) == "1":
            return
        status = self._call("read the bucket's versioning", self._s3.get_bucket_versioning).get("Status")
        if status != "Enabled":
            raise StateError(f"{self.url}: bucket {self.bucket} does not keep object versions, so a bad apply could "
                             f"not be undone; enable them (aws s3api put-bucket-versioning --bucket {self.bucket} "
                             f"--versioning-configuration Status=Enabled) or set {UNVERSIONED_ENV}=1")
        self._versioning_checked = True

    def _sync(self) -> None:
        """Upload the state if a commit moved its serial since the last upload (conditionally)."""
        import botocore.exceptions as bx

        serial = self._inner.meta().serial
        if serial == self._uploaded:
            return
        self._check_versioning()
        condition = {"IfMatch": self._etag} if self._etag else {"IfNoneMatch": "*"}
        try:
            answer = self._call("write the state", self._s3.put_object, Key=self.key, Body=self._snapshot(),
                                ContentType="application/vnd.sqlite3", **condition)
        except bx.ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                self._keep = True
                raise StateError(f"{self.url}: another writer changed the state since ecsctl read it, so this "
                                 f"change (serial {serial}) was NOT uploaded; it is kept in {self.path}. Run plan "
                                 "again (and make sure every writer uses the lock)") from None
            raise StateError(f"{self.url}: cannot write the state ({_code(exc)})") from None
        self._etag = answer["ETag"]
        self._uploaded = serial

    # -- the lock --------------------------------------------------------------------------

    def _read_lock(self) -> tuple[LockInfo, str] | None:
        import botocore.exceptions as bx

        try:
            answer = self._call("read the lock", self._s3.get_object, Key=self.lock_key)
        except bx.ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StateError(f"{self.url}: cannot read the lock ({_code(exc)})") from None
        try:
            data = json.loads(answer["Body"].read())
            return LockInfo(str(data["id"]), int(data["pid"]), str(data["host"]), str(data["command"]),
                            str(data["created_at"])), answer["ETag"]
        except (ValueError, KeyError, TypeError):
            return LockInfo("(unreadable)", 0, "?", "?", "?"), answer["ETag"]

    def _locked_error(self, holder: LockInfo) -> StateError:
        return StateError(f"{self.url}: state is locked: {holder.describe()}; if that run is gone, "
                          f"run `ecsctl state unlock {holder.id} --state {self.url}`")

    def lock_info(self) -> LockInfo | None:
        found = self._read_lock()
        return found[0] if found else None

    def acquire_lock(self, command: str) -> LockInfo:
        import botocore.exceptions as bx

        if self._lock is not None:
            raise StateError(f"{self.url}: this ecsctl already holds lock {self._lock.id}")
        self._check_versioning()  # a writer locks first: refused before it changes anything (in AWS too)
        info = LockInfo(str(uuid.uuid4()), os.getpid(), socket.gethostname(), command, _utc_now())
        body = json.dumps({"id": info.id, "pid": info.pid, "host": info.host, "command": info.command,
                           "created_at": info.created_at, "state": self.url}).encode()
        try:
            answer = self._call("lock the state", self._s3.put_object, Key=self.lock_key, Body=body,
                                ContentType="application/json", IfNoneMatch="*")
        except bx.ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                holder = self.lock_info()
                raise self._locked_error(holder or LockInfo("(released meanwhile)", 0, "?", "?", "?")) from None
            raise StateError(f"{self.url}: cannot lock the state ({_code(exc)})") from None
        self._lock, self._lock_etag = info, answer["ETag"]
        try:
            self._refresh()
        except BaseException:
            self.release_lock(info.id)
            raise
        return info

    def _refresh(self) -> None:
        """Work on the newest state: download it again (someone may have written before we locked)."""
        current = self._inner.meta().serial
        if current != self._uploaded:
            return  # uncommitted local work cannot be (it is uploaded at each commit)
        self._inner.close()
        etag = self._download()
        self._inner = self._store_type(self.path, create=True)
        self._etag = etag
        self._uploaded = self._inner.meta().serial if etag is not None else 0

    def release_lock(self, lock_id: str) -> None:
        import botocore.exceptions as bx

        if self._lock is None or lock_id != self._lock.id:
            raise StateError(f"{self.url}: lock {lock_id} was not acquired by this ecsctl; use `ecsctl state unlock` "
                             "to clear someone else's lock")
        try:
            self._call("unlock the state", self._s3.delete_object, Key=self.lock_key, IfMatch=self._lock_etag)
        except bx.ClientError as exc:
            if _code(exc) not in ("PreconditionFailed", "412", "NoSuchKey", "404"):
                raise StateError(f"{self.url}: cannot unlock the state ({_code(exc)})") from None
            # force-unlocked (and maybe re-locked by someone else): not ours to delete any more
        self._lock = self._lock_etag = None

    def force_unlock(self, lock_id: str) -> LockInfo:
        import botocore.exceptions as bx

        found = self._read_lock()
        if found is None:
            raise StateError(f"{self.url}: state is not locked; nothing to unlock (asked for lock {lock_id})")
        holder, etag = found
        if holder.id != lock_id:
            raise StateError(f"{self.url}: lock ID {lock_id} does not match the lock held: {holder.describe()}")
        try:
            self._call("unlock the state", self._s3.delete_object, Key=self.lock_key, IfMatch=etag)
        except bx.ClientError as exc:
            raise StateError(f"{self.url}: the lock changed while unlocking ({_code(exc)}); look again") from None
        if self._lock is not None and self._lock.id == lock_id:
            self._lock = self._lock_etag = None
        return holder

    @contextmanager
    def locked(self, command: str) -> Iterator[LockInfo]:
        info = self.acquire_lock(command)
        try:
            yield info
        finally:
            if self._lock is not None and self._lock.id == info.id:
                self.release_lock(info.id)

    def _refuse_if_locked_by_other(self) -> None:
        if self._lock is not None:
            return
        holder = self.lock_info()
        if holder is not None:
            raise self._locked_error(holder)

    # -- transactions and writes -----------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._inner.in_transaction:
            with self._inner.transaction():
                yield
            return
        self._refuse_if_locked_by_other()
        with self._inner.transaction():
            yield
        self._sync()

    @property
    def in_transaction(self) -> bool:
        return self._inner.in_transaction

    def __getattr__(self, name: str):
        inner = self.__dict__.get("_inner")
        if inner is None:
            raise AttributeError(name)
        attr = getattr(inner, name)
        if not callable(attr):
            return attr
        if name in _WRITES:
            def write(*args, **kwargs):
                with self._named():
                    if inner.in_transaction:
                        return attr(*args, **kwargs)
                    self._refuse_if_locked_by_other()
                    result = attr(*args, **kwargs)
                    self._sync()
                    return result
            return write

        def call(*args, **kwargs):
            with self._named():
                return attr(*args, **kwargs)
        return call

    @contextmanager
    def _named(self):
        """The local copy's errors name the S3 object (``s3://…: refusing to push …``), not the
        private temporary file the user never asked for."""
        try:
            yield
        except StateError as exc:
            text, head = str(exc), f"{self.path}: "
            if not text.startswith(head):
                raise
            raise StateError(f"{self.url}: {text[len(head):]}") from None

    def close(self) -> None:
        try:
            if self._lock is not None:
                self.release_lock(self._lock.id)
        finally:
            if self._inner is not None:
                self._inner.close()
                self._inner = None
            if not self._keep:
                shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "S3StateStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def exists(url: str, client: Any = None) -> bool:
    """Whether the state object exists (readers such as ``plan`` and ``get`` ask first)."""
    bucket, key = parse(url)
    s3 = client or _client()
    import botocore.exceptions as bx

    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except bx.ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound"):
            # HeadObject says 404 for a bucket that is not there too: a typo there is no "nothing
            # applied yet" (a plan would then call everything in AWS unmanaged and advise --adopt)
            if not _bucket_exists(url, s3, bucket):
                raise StateError(f"{url}: the bucket {bucket} does not exist") from None
            return False
        if _code(exc) in ("403", "AccessDenied"):
            raise StateError(f"{url}: access denied reading the state (s3:GetObject on {bucket})") from None
        raise StateError(f"{url}: cannot read the state ({_code(exc)})") from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise StateError(f"{url}: no AWS credentials found for the S3 state: set AWS_PROFILE or "
                         "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError) as exc:  # as _call says it
        raise StateError(f"{url}: cannot reach S3 ({exc})") from None


def _bucket_exists(url: str, s3: Any, bucket: str) -> bool:
    import botocore.exceptions as bx

    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except bx.ClientError as exc:
        return _code(exc) not in ("404", "NoSuchBucket", "NotFound")
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError) as exc:  # as exists() says it
        raise StateError(f"{url}: cannot reach S3 ({exc})") from None
