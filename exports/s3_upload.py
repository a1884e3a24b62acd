"""Upload an export to S3 while its rows are still being written: parts of the growing temp file
go up in the background, and the object appears at the final key only when every row is written
and every part succeeded (``complete_multipart_upload``); on any failure the upload is aborted.

django-storages' ``S3File`` cannot be used for this: it completes the multipart upload on close,
even after an exception, leaving a partial object at the key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from storages.utils import clean_name

from exports.formats import digest_stream

logger = logging.getLogger("targets.exports")

MB = 1024 * 1024
S3_MIN_PART_SIZE = 5 * MB  # every part but the last must be at least this big
S3_MAX_PARTS = 10_000
# 16 MB parts: a 156 GB export fits S3's 10,000 parts; at most PARTS_IN_FLIGHT parts are held in
# memory for upload (plus the one being filled), so memory stays flat whatever the size.
PART_SIZE = 16 * MB
PARTS_IN_FLIGHT = 2
_READ_BLOCK = MB
_POLL_S = 0.02


class _PartSink:
    """Where the (gzipped) bytes go: cut into parts of ``part_size`` handed to ``emit``.

    Blocks are kept as they come and joined once per part (one copy, no growing buffer).
    """

    def __init__(self, part_size: int, emit: Callable[[bytes], None]) -> None:
        self.part_size = part_size
        self.emit = emit
        self.blocks: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        block = bytes(data)
        self.blocks.append(block)
        self.size += len(block)
        while self.size >= self.part_size:
            # Only the block that crosses the part's end is split (blocks are ~1 MB).
            over = self.size - self.part_size
            last = self.blocks[-1]
            cut = len(last) - over
            head, rest = last[:cut], last[cut:]
            part = b"".join([*self.blocks[:-1], head])
            self.blocks = [rest] if rest else []
            self.size = len(rest)
            del last, head
            self.emit(part)
            del part
        return len(block)

    def flush(self) -> None:
        pass

    def rest(self) -> bytes:
        return b"".join(self.blocks)


class S3PipelinedUpload:
    """Follow ``path`` while another thread appends to it and upload it to ``key`` in parts.

    Use as a context manager: leaving the block without :meth:`complete` having succeeded
    (an exception, an interrupt) aborts the multipart upload, so neither an object at the key nor
    a dangling upload remains. ``compress`` gzips the file's bytes on the way (the parts are of
    the compressed stream); :attr:`bytes` and :attr:`sha256` describe what was uploaded.
    """

    def __init__(self, *, storage: Any, key: str, path: Path, compress: bool = False) -> None:
        if PART_SIZE < S3_MIN_PART_SIZE:
            raise ValueError(f"S3 parts must be at least {S3_MIN_PART_SIZE} bytes.")
        self.client = storage.bucket.meta.client  # boto3 clients are thread-safe
        self.bucket = storage.bucket_name
        self.name = storage._normalize_name(clean_name(key))
        self.params = storage._get_write_parameters(self.name)
        self.path = path
        self.compress = compress
        self.part_size = PART_SIZE
        self.upload_id: str | None = None
        self.bytes = 0
        self.sha256 = ""
        self._parts: dict[int, str] = {}
        self._futures: list[Future[None]] = []
        self._slots = threading.BoundedSemaphore(PARTS_IN_FLIGHT)
        self._pool = ThreadPoolExecutor(max_workers=PARTS_IN_FLIGHT, thread_name_prefix="s3-part")
        self._written = threading.Event()  # the writer closed the file: read to its end
        self._stop = threading.Event()  # give up (failure elsewhere)
        self._error: BaseException | None = None
        self._tail = b""  # what is left after the last full part: the last (or only) part
        self._completed = False
        self._follower = threading.Thread(
            target=self._follow, name=f"s3-follow-{self.name}", daemon=True
        )

    # -- the writer's side -------------------------------------------------------------------

    def __enter__(self) -> S3PipelinedUpload:
        self._follower.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._completed:
            self.abort()

    def finish(self) -> None:
        """The writer is done: upload what is left, then make sure the key is still free.

        Raises whatever went wrong in the background. After this, :meth:`complete` publishes
        the object.
        """
        self._written.set()
        self._follower.join()
        self._raise_background_error()
        if self.upload_id is not None and self._tail:
            self._submit(self._tail)
            self._tail = b""
        for future in self._futures:
            future.result()
        self._raise_background_error()
        if self._key_exists():
            raise FileExistsError(f"{self.name} exists already; keys are never reused.")

    def complete(self) -> None:
        """Publish the object at the key (one request: the parts, or the whole small file)."""
        if self.upload_id is None:
            body = self._tail
            self.client.put_object(Bucket=self.bucket, Key=self.name, Body=body, **self.params)
        else:
            parts = [
                {"PartNumber": number, "ETag": etag} for number, etag in sorted(self._parts.items())
            ]
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.name,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": parts},
            )
        self._completed = True
        self._pool.shutdown(wait=False)

    def abort(self) -> None:
        """Stop reading, wait for parts still going up, then abort the multipart upload."""
        self._stop.set()
        self._follower.join()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.upload_id is None:
            return
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.name, UploadId=self.upload_id
            )
        except Exception:
            logger.error("export upload: could not abort %s", self.upload_id, exc_info=True)

    # -- the background side -----------------------------------------------------------------

    def _follow(self) -> None:
        try:
            sink = _PartSink(self.part_size, self._submit)
            with (
                open(self.path, "rb") as source,
                digest_stream(sink, compress=self.compress) as (stream, digest),
            ):
                while not self._stop.is_set() and self._error is None:
                    # Only appended to: every byte before the end of the file is final.
                    block = source.read(_READ_BLOCK)
                    if block:
                        stream.write(block)
                    elif self._written.is_set():
                        break  # nothing more after the writer closed the file
                    else:
                        self._written.wait(_POLL_S)
            if self._stop.is_set() or self._error is not None:
                return
            self.bytes, self.sha256 = digest.bytes_written, digest.sha256
            self._tail = sink.rest()
        except BaseException as exc:
            self._error = self._error or exc

    def _submit(self, part: bytes) -> None:
        while not self._slots.acquire(timeout=_POLL_S):
            if self._stop.is_set() or self._error is not None:
                raise RuntimeError("S3 upload stopped.")
        try:
            if self.upload_id is None:
                created = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.name, **self.params
                )
                self.upload_id = created["UploadId"]
            number = len(self._futures) + 1
            if number > S3_MAX_PARTS:
                raise RuntimeError(f"An export may have at most {S3_MAX_PARTS} parts in S3.")
            future = self._pool.submit(self._upload_part, number, part)
        except BaseException:
            self._slots.release()
            raise
        self._futures.append(future)

    def _upload_part(self, number: int, part: bytes) -> None:
        try:
            if self._stop.is_set() or self._error is not None:
                return
            answer = self.client.upload_part(
                Bucket=self.bucket,
                Key=self.name,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=part,
            )
            self._parts[number] = answer["ETag"]
        except BaseException as exc:
            self._error = self._error or exc
            raise
        finally:
            self._slots.release()

    def _raise_background_error(self) -> None:
        if self._error is not None:
            raise self._error
        if self._stop.is_set():
            raise RuntimeError("S3 upload stopped.")

    def _key_exists(self) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True
