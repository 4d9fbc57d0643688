"""File downloads: `GET|HEAD /d/<grant>/<index>`, the links in a revealed file push, and
`GET /d/<grant>/all.zip`, every file in one zip streamed as it is built (core/file_zip.py).

Served by the API app so it works on Reflex's one port, and linked from the web pages
too, so it needs no API token: the grant (made by the reveal, see `core.file_downloads`) is the
permission.  The file is decrypted while it streams, a batch at a time in a worker thread.
"""

from __future__ import annotations

import logging
from typing import AsyncIterator

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from pwpush_app.api.auth import current_runtime, request_client
from pwpush_app.api.errors import ApiError
from pwpush_app.api.routes import Routes
from pwpush_app.core.crypto import DecryptionError
from pwpush_app.core.errors import AlreadyDownloaded, DownloadUnavailable
from pwpush_app.core.file_downloads import FileDownload, open_file_download
from pwpush_app.core.file_names import content_disposition, served_content_type
from pwpush_app.core.file_zip import ZipDownload, open_zip_download
from pwpush_app.core.i18n import N_, text_of
from pwpush_app.core.runtime import Runtime

log = logging.getLogger("pwpush.api")
routes = Routes(tags=["files"])

# Bytes handed from the decrypting thread per hop: few hops, little memory.
BATCH_BYTES = 1024 * 1024
DOWNLOAD_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
MAX_INDEX_DIGITS = 4


class DownloadAborted(Exception):
    """Raised into the server mid-response so the connection ends without a clean finish."""


DOWNLOAD_DOC = dict(
    description="The `url` of each entry in a retrieved file push's `files`. HEAD answers the headers without "
    "using up a once-only download. 404: unknown or expired link; 410: already downloaded after the last view.",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {"description": "Unknown or expired"},
               410: {"description": "Already downloaded (after the last view each file downloads once)"}},
)


ZIP_DOC = dict(
    description="Every file of the revealed push still there, as one zip streamed as it is built (no "
    "Content-Length). After the last view it counts as the one download of each file in it; files already "
    "downloaded are left out. 404: unknown or expired link; 410: every file was already downloaded.",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}, 404: {"description": "Unknown or expired"},
               410: {"description": "Every file was already downloaded"}},
)


def _refused(status: int, message: str) -> ApiError:
    # The message also rides in a header, so a HEAD (the page's check before a download,
    # which has no body) can show it.
    return ApiError(status, message, headers={"X-Error": message})


# Before the one-file route, which would take "all.zip" for an index.
@routes.head("/d/{grant}/all.zip", operation_id="download_all_files_headers", summary="The zip's headers", **ZIP_DOC)
@routes.get("/d/{grant}/all.zip", operation_id="download_all_files", summary="Download every file as one zip",
            **ZIP_DOC)
async def download_all(grant: str, request: Request, runtime: Runtime = Depends(current_runtime)):
    peek = request.method == "HEAD"
    client = request_client(request, runtime, None)
    try:
        download = await run_in_threadpool(open_zip_download, runtime, grant, None, peek, client)
    except DownloadUnavailable as error:
        raise _refused(404, text_of(error)) from None
    except AlreadyDownloaded:
        raise _refused(410, N_("Every file was already downloaded. After the last view each file can be downloaded "
                               "once, and these have been deleted.")) from None
    except DecryptionError:
        log.warning("zip refused: a stored file fails its integrity check")
        raise ApiError(500, "A file is damaged in storage and cannot be downloaded.") from None
    headers = {
        "Content-Type": "application/zip",
        "Content-Disposition": content_disposition(download.name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Content-Security-Policy": DOWNLOAD_POLICY,
        "Referrer-Policy": "no-referrer",
    }
    if peek:
        return Response(status_code=200, headers=headers)
    return StreamingResponse(_plaintext(download, "zip"), headers=headers)


@routes.head("/d/{grant}/{index}", operation_id="download_file_headers", summary="A download's headers", **DOWNLOAD_DOC)
@routes.get("/d/{grant}/{index}", operation_id="download_file",
            summary="Download a file of a revealed file push (no token needed)", **DOWNLOAD_DOC)
async def download_file(grant: str, index: str, request: Request, runtime: Runtime = Depends(current_runtime)):
    # isascii: "¹".isdigit() is True, but int() refuses it.
    if not (index.isascii() and index.isdigit()) or len(index) > MAX_INDEX_DIGITS:
        raise _refused(404, DownloadUnavailable().args[0])
    peek = request.method == "HEAD"
    client = request_client(request, runtime, None)
    try:
        download = await run_in_threadpool(open_file_download, runtime, grant, int(index), client, None, peek)
    except DownloadUnavailable as error:
        raise _refused(404, text_of(error)) from None
    except AlreadyDownloaded as error:
        raise _refused(410, text_of(error)) from None
    except DecryptionError:
        # The stored blob was cut or padded: nothing was sent yet, so an honest error.
        log.warning("download refused: stored file %s fails its integrity check", index)
        raise ApiError(500, N_("This file is damaged in storage and cannot be downloaded.")) from None
    headers = {
        # As declared (sanitised), but html, svg, xml and scripts as opaque bytes; set
        # directly so no charset is added to text types.
        "Content-Type": served_content_type(download.content_type),
        "Content-Length": str(download.size),
        "Content-Disposition": content_disposition(download.name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        # A download is never a page: no scripts, no frames, even if a browser renders it.
        # (The security headers middleware keeps a policy a response sets itself.)
        "Content-Security-Policy": DOWNLOAD_POLICY,
        "Referrer-Policy": "no-referrer",
    }
    if peek:
        return Response(status_code=200, headers=headers)
    return StreamingResponse(_plaintext(download, index), headers=headers)


async def _plaintext(download: FileDownload | ZipDownload, index: str) -> AsyncIterator[bytes]:
    try:
        while True:
            batch = await run_in_threadpool(_next_batch, download)
            if not batch:
                return
            yield batch
    except DecryptionError:
        # Everything sent so far was authentic; the rest is not.  Raising (not returning)
        # makes the server drop the connection, so the client sees a broken download
        # instead of a short file that looks complete.
        log.warning("download aborted: stored file %s fails its integrity check mid-stream", index)
        raise DownloadAborted("stored file failed its integrity check") from None
    finally:
        await run_in_threadpool(download.close)


def _next_batch(download: FileDownload | ZipDownload) -> bytes:
    batch: list[bytes] = []
    size = 0
    for chunk in download.chunks:
        batch.append(chunk)
        size += len(chunk)
        if size >= BATCH_BYTES:
            break
    return b"".join(batch)

