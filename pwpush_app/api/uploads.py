"""Multipart create requests, read as a stream: text fields into memory, files straight
into the core's `FilePushDraft` (sealed while they arrive).

Never `request.form()` / `UploadFile`: Starlette spools every file over 1 MiB to a
plaintext temporary file.  Here python-multipart's push parser is fed from
`request.stream()`; its callbacks only queue events, which are drained after each network
read, so at most one read (plus two `DraftFeeder` batches) of a file is in memory.

The draft enforces the file rules (size while the bytes arrive, count, empty files, who
may send); this module maps its refusals to HTTP: too large -> 413, login -> 401, the
rest -> 422.  Leaving early for any reason deletes what was written.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from pwpush_app.api.bodies import MAX_FIELDS, create_body_from_pairs, new_push_from_fields, too_large
from pwpush_app.api.errors import ApiError, invalid
from pwpush_app.core.audit import Client
from pwpush_app.core.create import CreatedPush, NewPush
from pwpush_app.core.errors import InvalidPush, LoginRequired
from pwpush_app.core.file_names import describe_bytes
from pwpush_app.core.file_uploads import DraftFeeder, FilePushDraft, check_may_send_files
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.request_files import FileAnswerDraft
from pwpush_app.core.requests import answer_request, open_request
from pwpush_app.core.runtime import Runtime

# Marks a file part among the text fields, so `file_push[files][]` alone still names the
# root object; never a value a client could send (NUL is refused in text fields).
FILE_MARKER = "\x00file"
# The root object of a request's answer (`answer[payload]`, `answer[files][]`).
ANSWER_ROOT = "answer"


@dataclass
class _Event:
    kind: str  # field | file | data | end
    name: str = ""
    value: str = ""
    filename: str | None = None
    content_type: str = ""
    data: bytes = b""


@dataclass
class _Part:
    headers: dict = field(default_factory=dict)
    header_field: bytes = b""
    header_value: bytes = b""
    name: str = ""
    filename: bytes | None = None
    text: bytearray = field(default_factory=bytearray)


class _EventParser:
    """python-multipart callbacks -> a list of events; text fields counted against a limit."""

    def __init__(self, boundary: bytes, text_limit: int):
        self.events: list[_Event] = []
        self.text_limit = text_limit
        self.text_bytes = 0
        self.field_count = 0
        self.part = _Part()
        self.parser = MultipartParser(boundary, dict(
            on_part_begin=self._begin, on_header_field=self._header_field, on_header_value=self._header_value,
            on_header_end=self._header_end, on_headers_finished=self._headers_finished,
            on_part_data=self._data, on_part_end=self._end,
        ))

    def write(self, chunk: bytes) -> list[_Event]:
        self.parser.write(chunk)
        return self._take()

    def finish(self) -> list[_Event]:
        self.parser.finalize()
        return self._take()

    def _take(self) -> list[_Event]:
        events, self.events = self.events, []
        return events

    def _begin(self):
        self.part = _Part()

    def _header_field(self, data, start, end):
        self.part.header_field += data[start:end]

    def _header_value(self, data, start, end):
        self.part.header_value += data[start:end]
        if len(self.part.header_value) > 16 * 1024:
            raise ApiError(400, "A multipart header is too long.")

    def _header_end(self):
        self.part.headers[self.part.header_field.lower()] = self.part.header_value
        self.part.header_field, self.part.header_value = b"", b""

    def _headers_finished(self):
        part = self.part
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        part.filename = disposition.get(b"filename")
        self.field_count += 1
        if self.field_count > MAX_FIELDS:
            raise ApiError(400, said(N_("The form has too many fields: at most {count}."), count=MAX_FIELDS))
        if part.filename is not None:
            content_type = part.headers.get(b"content-type", b"").decode("latin-1")
            self.events.append(_Event("file", name=part.name, filename=part.filename.decode("utf-8", "replace"),
                                      content_type=content_type))

    def _data(self, data, start, end):
        if self.part.filename is not None:
            self.events.append(_Event("data", data=bytes(data[start:end])))
            return
        self.text_bytes += end - start
        if self.text_bytes > self.text_limit:
            raise too_large(self.text_limit)
        self.part.text += data[start:end]

    def _end(self):
        part = self.part
        if part.filename is not None:
            self.events.append(_Event("end"))
            return
        try:
            value = bytes(part.text).decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, said(N_("The form field {name} is not valid UTF-8."), name=repr(part.name))) from None
        self.events.append(_Event("field", name=part.name, value=value))


class _Upload:
    """The files of one request, into a draft made at the first file (so a text-only
    multipart request never touches the file rules); `make_draft`: a request's answer's."""

    def __init__(self, runtime: Runtime, client: Client, make_draft: Callable[[], FilePushDraft] | None = None):
        self.make_draft = make_draft or functools.partial(FilePushDraft, runtime, client)
        self.draft: FilePushDraft | None = None
        self.feeder: DraftFeeder | None = None
        self.started = False  # the current part has a file in the draft
        self.pending_name: str | None = None  # a part whose file starts at its first byte
        self.content_type = ""
        self.count = 0

    async def start_part(self, filename: str, content_type: str) -> None:
        self.content_type = content_type
        if filename == "":
            # A browser's empty file input sends a part with filename="" and no bytes:
            # skip it, unless bytes do come.
            self.pending_name = ""
            return
        await self._start(filename)

    async def _start(self, filename: str) -> None:
        if self.draft is None:
            self.draft = await run_in_threadpool(self.make_draft)
            self.feeder = DraftFeeder(self.draft)
        await run_in_threadpool(self.draft.start_file, filename, self.content_type)
        self.started, self.pending_name = True, None
        self.count += 1

    async def data(self, data: bytes) -> None:
        if not self.started and self.pending_name is not None:
            await self._start(self.pending_name)
        if self.started:
            await self.feeder.add(data)

    async def end_part(self) -> None:
        if self.started:
            await self.feeder.flush()
            await run_in_threadpool(self.draft.end_file)
        self.started, self.pending_name = False, None

    async def commit(self, request: NewPush) -> CreatedPush:
        self._check_complete()
        return await run_in_threadpool(self.draft.commit, request)

    async def commit_answer(self, payload: str, passphrase: str) -> None:
        self._check_complete()
        await run_in_threadpool(self.draft.commit_answer, payload, passphrase)

    def _check_complete(self) -> None:
        if self.started:  # the body ended inside a file part (python-multipart's finalize() lets it pass)
            raise ApiError(400, N_("The multipart body ended in the middle of a file: send it again, whole."))

    async def abort(self) -> None:
        if self.feeder is not None:
            await self.feeder.drain()
        if self.draft is not None and self.draft.is_open:
            await run_in_threadpool(self.draft.abort)


async def create_from_multipart(
    request: Request, runtime: Runtime, client: Client, root_key: str, kind: str, kind_is_fixed: bool, text_limit: int
) -> tuple[dict, NewPush, str, CreatedPush | None]:
    """Read a multipart create request; returns (fields, new push, duration field, created).

    `created` is set when the request carried files (the push is stored); otherwise the
    caller creates the text/url/qr push from the fields as for any other body."""
    boundary = _boundary(request)
    file_limit = runtime.settings.max_file_bytes_per_push
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > file_limit + text_limit:
        # Refuse before reading a byte; the draft would stop it later anyway.
        raise _files_too_large(runtime)
    if kind_is_fixed and kind == "file":
        # /f.json: who may send is known before the body is read.
        _check_may_send(runtime, client)

    parser = _EventParser(boundary, text_limit)
    upload = _Upload(runtime, client)
    pairs: list[tuple[str, str]] = []
    duration_field = "expire_after_minutes"
    try:
        await _read_body(request, parser, upload, pairs, root_key)
        fields = create_body_from_pairs(request, pairs, root_key).fields
        new_push, duration_field = _new_push(fields, kind, kind_is_fixed, has_files=upload.count > 0)
        if upload.count == 0:
            # Text only (or a file push without files): the caller goes on as for JSON.
            return fields, new_push, duration_field, None
        created = await upload.commit(new_push)
        return fields, new_push, duration_field, created
    except InvalidPush as error:
        if upload.draft is not None and upload.draft.total_bytes > file_limit:
            raise _files_too_large(runtime) from None
        raise invalid({(duration_field if k == "expire_after" else k): v for k, v in error.errors.items()}) from None
    except LoginRequired:
        raise _login_required() from None
    finally:
        await upload.abort()


async def _read_body(request: Request, parser: "_EventParser", upload: "_Upload", pairs: list[tuple[str, str]],
                     root_key: str) -> None:
    """Stream the body through the parser: files into the upload, fields into `pairs`."""
    try:
        async for chunk in request.stream():
            await _apply(parser.write(chunk), upload, pairs, root_key)
        await _apply(parser.finish(), upload, pairs, root_key)
    except MultipartParseError as error:
        raise ApiError(400, said(N_("The multipart body is malformed: {detail}"), detail=str(error)[:200])) from None


async def answer_from_multipart(request: Request, runtime: Runtime, client: Client, token: str, text_limit: int) -> None:
    """Read a multipart answer to the request behind `token` (`answer[payload]`,
    `answer[passphrase]`, files as `answer[files][]`) and store it: with files through the
    request's own draft (core/request_files.py), without as a text answer.  A link that
    takes no answer is PushUnavailable before a byte of the body is read."""
    boundary = _boundary(request)
    await run_in_threadpool(open_request, runtime, token)
    file_limit = runtime.settings.max_file_bytes_per_push
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > file_limit + text_limit:
        raise _files_too_large(runtime)
    parser = _EventParser(boundary, text_limit)
    upload = _Upload(runtime, client, functools.partial(FileAnswerDraft, runtime, token, client))
    pairs: list[tuple[str, str]] = []
    try:
        await _read_body(request, parser, upload, pairs, ANSWER_ROOT)
        payload, passphrase = _answer_fields(create_body_from_pairs(request, pairs, ANSWER_ROOT).fields)
        if upload.count == 0:
            await run_in_threadpool(answer_request, runtime, token, payload, client, passphrase)
        else:
            await upload.commit_answer(payload, passphrase)
    except InvalidPush as error:
        if upload.draft is not None and upload.draft.total_bytes > file_limit:
            raise _files_too_large(runtime) from None
        raise invalid(error.errors) from None
    finally:
        await upload.abort()


def _answer_fields(fields: dict) -> tuple[str, str]:
    unknown = sorted(set(fields) - {"payload", "passphrase", "files"})
    if unknown:
        raise invalid({f"{ANSWER_ROOT}.{name}"[:100]: N_("Unknown field: an answer takes payload, passphrase and files[].")
                       for name in unknown[:20]})
    sent_files = fields.get("files")
    if sent_files is not None and (not isinstance(sent_files, list) or any(v != FILE_MARKER for v in sent_files)):
        raise invalid({"files": said(N_("Each of {field} must be a file part (with a filename), e.g. {example}."),
                                     field="answer[files][]", example="curl -F 'answer[files][]=@secret.pdf'")})
    payload, passphrase = fields.get("payload", ""), fields.get("passphrase", "")
    if not isinstance(payload, str) or not isinstance(passphrase, str):
        raise invalid({"payload" if not isinstance(payload, str) else "passphrase": N_("Send text.")})
    return payload, passphrase


def _boundary(request: Request) -> bytes:
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiError(400, N_("The multipart body has no boundary in its Content-Type."))
    return boundary


async def _apply(events: list[_Event], upload: _Upload, pairs: list[tuple[str, str]], root_key: str) -> None:
    for event in events:
        if event.kind == "data":
            await upload.data(event.data)
        elif event.kind == "file":
            pairs.append((event.name, FILE_MARKER))
            if event.name != f"{root_key}[files][]":
                # Refused at the part's headers, before its bytes are read.
                raise invalid({event.name[:100]: said(N_("Send files as {field} (one part per file)."), field=f"{root_key}[files][]")})
            await upload.start_part(event.filename, event.content_type)
        elif event.kind == "end":
            await upload.end_part()
        else:
            pairs.append((event.name, event.value))


def _new_push(fields: dict, kind: str, kind_is_fixed: bool, has_files: bool) -> tuple[NewPush, str]:
    sent_files = fields.pop("files", None)
    if sent_files is not None and (not isinstance(sent_files, list) or any(v != FILE_MARKER for v in sent_files)):
        raise invalid({"files": N_("Each of files[] must be a file part (with a filename), e.g. curl -F "
                                   "'push[files][]=@secret.pdf'.")})
    if has_files and not kind_is_fixed and "kind" not in fields:
        kind = "file"
    new_push, duration_field = new_push_from_fields(fields, kind, kind_is_fixed)
    if has_files and new_push.kind != "file":
        raise invalid({"files": said(N_("Files can only be attached to file pushes, not {kind} pushes."), kind=new_push.kind)})
    return new_push, duration_field


def _check_may_send(runtime: Runtime, client: Client, file_count: int | None = None) -> None:
    try:
        check_may_send_files(runtime, client, file_count)
    except LoginRequired:
        raise _login_required() from None
    except InvalidPush as error:
        raise invalid(error.errors) from None


def check_file_push_without_files(runtime: Runtime, client: Client) -> None:
    """A file push with no file parts (or not multipart at all): say what is missing,
    after who-may-send (so an anonymous caller learns about the token first)."""
    _check_may_send(runtime, client)
    raise invalid({"files": N_("Attach at least one file: send multipart/form-data with push[files][] "
                               "(curl -F 'push[files][]=@secret.pdf').")})


def _login_required() -> ApiError:
    return ApiError(401, N_("File pushes need an account on this server: send an API token "
                            "(`Authorization: Bearer <token>`)."))


def _files_too_large(runtime: Runtime) -> ApiError:
    limit = runtime.settings.max_file_bytes_per_push
    too_large = said(N_("The files are too large: at most {size} per push in total."), size=describe_bytes(limit))
    return ApiError(413, too_large, {"files": [too_large]})
