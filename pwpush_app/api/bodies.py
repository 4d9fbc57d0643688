"""Create-request bodies, in every form Password Pusher accepts, turned into a `NewPush`.

JSON (`{"push": {...}}`) and form-encoded Rails keys (`password[payload]=...`); multipart
bodies (`push[files][]`) are streamed by `uploads.py`, which reuses the field rules here.
This module only reads and type-checks; the limits and defaults are
the core's (`validate_new_push`).  Every malformed body is a 4xx `ApiError`.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass

from fastapi import Request

from pwpush_app.api.errors import ApiError, invalid
from pwpush_app.core.create import NewPush
from pwpush_app.core.i18n import N_, said
from pwpush_app.core.owners import PushEdit

# expire_after_duration: Password Pusher's CLI sends 6..17 for its --days option; 0..5
# are our sub-day choices.  Index -> minutes.
DAY = 24 * 60
DURATION_MINUTES = {
    0: 5, 1: 15, 2: 30, 3: 60, 4: 4 * 60, 5: 12 * 60,
    6: 1 * DAY, 7: 2 * DAY, 8: 3 * DAY, 9: 4 * DAY, 10: 5 * DAY, 11: 6 * DAY, 12: 7 * DAY,
    13: 14 * DAY, 14: 21 * DAY, 15: 30 * DAY, 16: 60 * DAY, 17: 90 * DAY,
}
DURATION_FIELDS = ("expire_after_duration", "expire_after_days", "expire_after_minutes")
TEXT_FIELDS = ("payload", "kind", "name", "note", "passphrase", "verify_email")
INT_FIELDS = ("expire_after_views", *DURATION_FIELDS, "burn_after_failed_passphrases")
BOOL_FIELDS = ("deletable_by_viewer", "retrieval_step", "verify_recipients", "end_to_end")
# Mail the link to these addresses (a comma-separated text, or a JSON list), in that language.
NOTIFY_FIELDS = ("notify_emails_to", "notify_emails_to_locale")
# The addresses the link opens from: a text (separated by spaces or commas) or a list of texts.
ADDRESS_FIELD = "allowed_ips"
# One secret for several recipients (core/recipients.py): a list of labels or emails, or a text.
RECIPIENTS_FIELD = "recipients"
PUSH_FIELDS = frozenset((*TEXT_FIELDS, *INT_FIELDS, *BOOL_FIELDS, *NOTIFY_FIELDS, ADDRESS_FIELD, RECIPIENTS_FIELD,
                         "files"))
# Root keys some clients add beside the push object (the CLI's account_id, Rails forms'
# extras); tolerated and ignored.
IGNORED_ROOT_KEYS = frozenset(("account_id", "locale", "utf8", "authenticity_token", "commit"))

_TRUE = {"true", "1", "on", "yes", "t"}
_FALSE = {"false", "0", "off", "no", "f"}
_INT_RE = re.compile(r"^\s*[+-]?\d{1,18}\s*$")
_RAILS_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
MAX_FIELDS = 200


@dataclass
class CreateBody:
    """The push object of a create request."""

    fields: dict


def body_limit(max_payload_bytes: int) -> int:
    # JSON may escape every character as \uXXXX (6 bytes); leave room for the other fields.
    return 6 * max_payload_bytes + 256 * 1024


async def read_create_body(request: Request, root_key: str, max_bytes: int) -> CreateBody:
    """Parse a JSON or form-encoded body (plus Rails-style query parameters) and return the
    `root_key` object.  Multipart bodies are streamed by `uploads.create_from_multipart`."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    raw = await _read_limited(request, max_bytes)
    if media_type == "application/json" or media_type.endswith("+json"):
        root = _parse_json(raw)
    elif media_type in ("application/x-www-form-urlencoded", ""):
        root = _rails_nest(_parse_form(raw))
    else:
        raise ApiError(415, said(N_("Send the push as JSON, form-encoded or multipart, not {media_type}."),
                                  media_type=repr(media_type)))
    return _with_query(request, root, root_key)


async def read_object_body(request: Request, max_bytes: int) -> dict:
    """A small JSON object or form-encoded body (Rails keys nested), for endpoints other than create."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await _read_limited(request, max_bytes)
    if media_type == "application/json" or media_type.endswith("+json"):
        root = _parse_json(raw) if raw.strip() else {}
    elif media_type in ("application/x-www-form-urlencoded", ""):
        root = _rails_nest(_parse_form(raw))
    else:
        raise ApiError(415, said(N_("Send JSON or form-encoded fields, not {media_type}."), media_type=repr(media_type)))
    if not isinstance(root, dict):
        raise ApiError(400, N_("The body must be an object of fields."))
    return root


def create_body_from_pairs(request: Request, pairs: list[tuple[str, str]], root_key: str) -> CreateBody:
    """The `root_key` object of form fields already read (multipart's text parts)."""
    return _with_query(request, _rails_nest(pairs), root_key)


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"


def _with_query(request: Request, root, root_key: str) -> CreateBody:
    if request.url.query and isinstance(root, dict):
        # Rails merges query parameters into params; old scripts rely on it. The body wins.
        for key, value in _rails_nest(_parse_form(request.url.query.encode("latin-1", "replace"))).items():
            root.setdefault(key, value)
    return CreateBody(fields=_push_object(root, root_key))


async def _read_limited(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(max_bytes: int) -> ApiError:
    return ApiError(413, said(N_("The request body is too large: at most {count} bytes."), count=f"{max_bytes:,}"))


def _parse_json(raw: bytes):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, N_("The request body is not valid UTF-8.")) from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        # ValueError covers malformed JSON and integers too long to convert.
        raise ApiError(400, said(N_("The request body is not valid JSON: {detail}"), detail=str(error)[:200])) from None


def _parse_form(raw: bytes) -> list[tuple[str, str]]:
    try:
        text = raw.decode("ascii") if raw.isascii() else raw.decode("utf-8")
        pairs = urllib.parse.parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_FIELDS
        )
    except UnicodeDecodeError:
        raise ApiError(400, N_("The form data is not valid UTF-8 (percent-encode UTF-8 bytes).")) from None
    except ValueError:
        raise ApiError(400, said(N_("The form has too many fields: at most {count}."), count=MAX_FIELDS)) from None
    return pairs


def _form_field_refused(template: str, key: str) -> ApiError:
    return ApiError(400, said(template, name=repr(key[:100])))


def _rails_nest(pairs: list[tuple[str, str]]) -> dict:
    """`password[payload]=x` -> {"password": {"payload": "x"}}; `push[files][]` -> a list."""
    root: dict = {}
    for key, value in pairs:
        match = _RAILS_KEY_RE.match(key)
        if not match:
            raise _form_field_refused(N_("The form field name {name} is malformed."), key)
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if last:
                if part == "":
                    raise _form_field_refused(N_("The form field name {name} is malformed."), key)
                node[part] = value
            elif parts[depth + 1] == "" and depth + 1 == len(parts) - 1:
                existing = node.setdefault(part, [])
                if not isinstance(existing, list):
                    raise _form_field_refused(N_("The form field {name} conflicts with another field."), key)
                existing.append(value)
                break
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise _form_field_refused(N_("The form field {name} conflicts with another field."), key)
                node = child
    return root


def _missing_root(root_key: str) -> str:
    """Password Pusher's words for a missing root key (Rails' `params.require`)."""
    return said(N_("param is missing or the value is empty or invalid: {root}"), root=root_key)


def _push_object(root, root_key: str) -> dict:
    if not isinstance(root, dict):
        raise ApiError(400, said(N_("The body must be an object with a {root} object inside."), root=repr(root_key)))
    fields = root.get(root_key)
    if not fields:
        raise ApiError(400, _missing_root(root_key),
                       extra={"message": said(N_("Send e.g. {form} or {json}."), form=f"{root_key}[payload]=...",
                                              json=f'{{"{root_key}": {{"payload": "..."}}}}')})
    if not isinstance(fields, dict):
        raise ApiError(400, _missing_root(root_key),
                       extra={"message": said(N_("{root} must be an object of fields, like {json}."),
                                              root=repr(root_key), json='{"payload": "..."}')})
    unknown = sorted(set(root) - {root_key} - IGNORED_ROOT_KEYS)
    unknown_inside = sorted(set(fields) - PUSH_FIELDS)
    errors = {name: N_("Unknown field.") for name in unknown}
    errors.update({f"{root_key}.{name}": N_("Unknown field.") for name in unknown_inside})
    if errors:
        raise invalid({k[:100]: v for k, v in list(errors.items())[:20]})
    return fields


# --- fields -> NewPush ---------------------------------------------------------------------

def new_push_from_fields(fields: dict, kind: str, kind_is_fixed: bool = False) -> tuple[NewPush, str]:
    """Type-check the fields; return the NewPush and which duration field the caller used.

    Raises a 422 `ApiError` naming each wrong field.  `None` / null means "default".
    """
    errors: dict[str, str] = {}
    values: dict = {}
    for name in TEXT_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[name] = said(N_("{field} must be text."), field=name)
        else:
            values[name] = value
    for names, parse, wanted in ((INT_FIELDS, _as_int, N_("{field} must be a whole number.")),
                                 (BOOL_FIELDS, as_bool, N_("{field} must be true or false."))):
        for name in names:
            value = fields.get(name)
            if value is None or value == "":
                continue
            parsed = parse(value)
            if parsed is None:
                errors[name] = said(wanted, field=name)
            else:
                values[name] = parsed

    durations = [name for name in DURATION_FIELDS if name in values]
    duration_field = durations[0] if durations else "expire_after_minutes"
    minutes = None
    if len(durations) > 1:
        errors[durations[1]] = said(N_("Send only one of {fields}."), fields=", ".join(DURATION_FIELDS))
    elif duration_field == "expire_after_duration" and "expire_after_duration" in values:
        index = values["expire_after_duration"]
        if index not in DURATION_MINUTES:
            errors["expire_after_duration"] = said(
                N_("{field} must be from 0 to {highest} (see the API docs for the table)."),
                field="expire_after_duration", highest=max(DURATION_MINUTES))
        else:
            minutes = DURATION_MINUTES[index]
    elif duration_field == "expire_after_days" and "expire_after_days" in values:
        minutes = values["expire_after_days"] * DAY
    elif "expire_after_minutes" in values:
        minutes = values["expire_after_minutes"]
    if kind_is_fixed and values.get("kind", kind) != kind:
        errors["kind"] = said(N_("This endpoint creates {kind} pushes only."), kind=kind)
    notify = notify_fields(fields, errors)
    allowed_ips = fields.get(ADDRESS_FIELD)
    if not (allowed_ips is None or isinstance(allowed_ips, str)
            or isinstance(allowed_ips, list) and all(isinstance(item, str) for item in allowed_ips)):
        errors[ADDRESS_FIELD] = N_("allowed_ips must be text or a list of texts, e.g. [\"203.0.113.0/24\", \"2001:db8::/32\"].")
    recipients = fields.get(RECIPIENTS_FIELD)
    if not (recipients is None or isinstance(recipients, str)
            or isinstance(recipients, list) and all(isinstance(item, str) for item in recipients)):
        errors[RECIPIENTS_FIELD] = N_("recipients must be a list of texts, e.g. [\"Alice\", \"bob@example.com\"].")
    if errors:
        raise invalid(errors)

    requested_kind = values.get("kind") or kind
    return NewPush(
        payload=values.get("payload", ""),
        kind=requested_kind,
        name=values.get("name", ""),
        note=values.get("note", ""),
        passphrase=values.get("passphrase", ""),
        expire_after_views=values.get("expire_after_views"),
        expire_after_minutes=minutes,
        retrieval_step=values.get("retrieval_step"),
        deletable_by_viewer=values.get("deletable_by_viewer"),
        allowed_ips=allowed_ips,
        burn_after_failed_passphrases=values.get("burn_after_failed_passphrases"),
        recipients=recipients,
        verify_email=values.get("verify_email"),
        verify_recipients=values.get("verify_recipients"),
        end_to_end=values.get("end_to_end") or False,
        **notify,
    ), duration_field


def notify_fields(fields: dict, errors: dict[str, str]) -> dict:
    """`notify_emails_to` (text, or a list of texts) and `notify_emails_to_locale` (text), type-checked;
    the core checks the addresses (core/link_mail.py)."""
    found = {}
    to, locale = fields.get("notify_emails_to"), fields.get("notify_emails_to_locale")
    if to is not None:
        if isinstance(to, str) or isinstance(to, list) and all(isinstance(item, str) for item in to):
            found["notify_emails_to"] = to
        else:
            errors["notify_emails_to"] = N_("notify_emails_to must be text: addresses separated by commas.")
    if locale is not None:
        if isinstance(locale, str):
            found["notify_emails_to_locale"] = locale
        else:
            errors["notify_emails_to_locale"] = N_("notify_emails_to_locale must be a language code like en.")
    return found


# What an edit may not change: the kind, the files of a file push, the sender's policies.
FIXED_FIELDS = ("kind", "files", ADDRESS_FIELD, "burn_after_failed_passphrases", RECIPIENTS_FIELD, "verify_email",
                "verify_recipients")


def push_edit_from_fields(fields: dict) -> tuple[PushEdit, str]:
    """An edit's fields, type-checked like a create's; a field left out (or null) stays as
    it is, `"passphrase": ""` removes the passphrase and `"note": ""` the note."""
    fixed = {name: N_("This cannot change after creation: create a new push instead.") for name in FIXED_FIELDS
             if name in fields}
    if fixed:
        raise invalid(fixed)
    new, duration_field = new_push_from_fields(fields, "text")

    def given(name: str):
        return getattr(new, name) if fields.get(name) is not None else None

    return PushEdit(
        name=given("name"),
        note=given("note"),
        payload=new.payload or None,
        passphrase=given("passphrase"),
        expire_after_views=new.expire_after_views,
        expire_after_minutes=new.expire_after_minutes,
        retrieval_step=new.retrieval_step,
        deletable_by_viewer=new.deletable_by_viewer,
    ), duration_field


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.match(value):
        return int(value)
    return None


def as_bool(value) -> bool | None:
    """true/false, 1/0, "yes"/"no"... as JSON or form fields send them; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None
