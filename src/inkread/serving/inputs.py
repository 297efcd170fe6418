"""Read an image and its fields from a request: JSON (base64), multipart upload, or a raw image body.

A raw body is an image if its Content-Type says so, or, sent without one (or as a form, as curl's
``--data-binary`` does), if its first bytes are an image format's.

Every problem becomes an ``HTTPException`` with a one-line message naming the field: 415 for a
body or upload that is not an image, 422 for missing or invalid fields. The body size limit (413)
is enforced while the body is read, by ``middleware.BodyLimitMiddleware``.
"""

from __future__ import annotations

import base64
import binascii
import json
from contextlib import aclosing
from typing import TypeVar

import anyio
from fastapi import HTTPException, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from inkread.imaging.decode import starts_like_image

T = TypeVar("T", bound=BaseModel)

# Content types accepted for an uploaded file part: images, and the generic type browsers and
# curl send when they do not know better (the decoder then decides whether it is an image).
GENERIC_TYPES = ("application/octet-stream", "")
# A raw body of these types is taken as an image if it starts as one: a client that does not say
# (``curl --data-binary @digit.png`` sends application/x-www-form-urlencoded).
SNIFFED_TYPES = (*GENERIC_TYPES, "application/x-www-form-urlencoded")
FORM_LIMITS = {"max_files": 1, "max_fields": 20, "max_part_size": 64 * 1024}
# A JSON body this large is parsed and its base64 decoded in a worker thread: on the event loop, an 8 MB one
# held every other request of the worker ~30 ms (validation 3-6, the duplicate-key check 7, base64 15-23 ms).
# Below it, parsing (0.2 ms for 64 KB) costs no more than the hop to a thread (0.1 ms): a drawing stays here.
THREAD_PARSE_BYTES = 64 * 1024
BASE64_STEP = 1024 * 1024  # base64 characters decoded per call (a multiple of 4): ~1 ms
# A part without a filename is a text field: curl's -F file=<image.png sends one, -F file=@image.png a file
_TEXT_PART_HINT = " (a part without a filename is a text field: curl -F file=@image.png, not file=<image.png)"
USAGE = ("send JSON {\"image\": \"<base64>\"}, a multipart/form-data upload with the field 'file', "
         "or the image itself with an image/* Content-Type")


def parsing_limiter() -> anyio.CapacityLimiter:
    """The worker threads parsing large JSON bodies for one app: one. Parsing holds the GIL, so more threads only
    take turns, and each one running made the event loop wait for the GIL again at every system call. With 4
    clients uploading 8 MB at once (benchmarks/big_bodies.py, one core), /healthz p99 was 28-45 ms parsed on the
    event loop, 21-31 ms in one thread, and worse than on the loop with a thread each (47-59 ms)."""
    return anyio.CapacityLimiter(1)


def media_type(header: str | None) -> str:
    """``"multipart/form-data; boundary=x"`` -> ``"multipart/form-data"``."""
    return (header or "").split(";", 1)[0].strip().lower()


def printable(name: str) -> str:
    """A name sent by a client (a field, a query parameter, a path) as it may appear in a one-line message:
    control and invisible characters escaped ("a\\nb", "\\u202e"), so a newline or a right-to-left
    override in it cannot break the line or reorder how it reads."""
    return name if name.isprintable() else name.encode("unicode_escape").decode("ascii")


def validation_message(error: ValidationError | list, where: str = "") -> str:
    """One line naming the first bad field, e.g. ``field 'top_k': Input should be ...``."""
    errors = error.errors() if isinstance(error, ValidationError) else error
    first = errors[0]
    if first.get("type") == "json_invalid":
        problem = str(first.get("ctx", {}).get("error", first.get("msg")))
        # JSON's grammar allows these, our parser does not: "not valid JSON" was untrue of them
        if problem.startswith("number out of range"):
            return f"the body holds a number too large to read ({problem}): send the fields listed at /docs"
        if "hex escape" in problem:
            return (f"the body holds a \\u escape that is no character, half a surrogate pair such as \\ud800 ({problem}): "
                    "send the fields listed at /docs")
        return f"the body is not valid JSON ({problem}): send a JSON object"
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "form")]
    name = printable(".".join(loc) or where or "body")
    name = name if len(name) <= 60 else name[:57] + "..."  # a client's megabyte-long key is not echoed back whole
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if first.get("type") == "extra_forbidden":
        return f"field '{name}': no such field (misspelled?); the fields are listed at /docs{more}"
    if first.get("type") == "string_pattern_mismatch":  # pydantic would show the regular expression itself
        return f"field '{name}': holds characters it may not (control or invisible ones){more}"
    return f"field '{name}': {first.get('msg', 'invalid')}{more}"


def unprocessable(message: str) -> HTTPException:
    """A 422 answer with ``message``."""
    return HTTPException(status_code=422, detail=message)


def decode_base64_image(text: str, field: str = "image") -> bytes:
    """The bytes of a base64 string or ``data:image/...;base64,`` URL; 415/422 when it is not one."""
    text = text.strip()
    if text[:5].lower() == "data:":  # a URL's scheme, and its parameters, in any case
        header, sep, text = text.partition(",")
        mime = media_type(header[5:])
        if not sep or not header.lower().endswith(";base64"):
            raise unprocessable(f"field '{field}': a data URL must look like data:image/png;base64,<data>")
        if not mime.startswith("image/"):
            raise HTTPException(415, f"field '{field}': the data URL holds {mime or 'no type'}, not an image")
    text = "".join(text.split())
    if "-" in text or "_" in text:  # the URL-safe alphabet (JavaScript's and Python's urlsafe encoders)
        text = text.replace("-", "+").replace("_", "/")
    try:
        data = _decode_base64_in_steps(text + "=" * (-len(text) % 4))  # its padding left out, as JWTs do
    except (binascii.Error, ValueError):
        raise unprocessable(f"field '{field}': not valid base64; encode the image file with base64") from None
    if not data:
        raise unprocessable(f"field '{field}': the image is empty")
    return data


def _decode_base64_in_steps(text: str) -> bytes:
    """``base64.b64decode(text, validate=True)`` for a ``text`` whose length is a multiple of 4, BASE64_STEP
    characters per call: in a worker thread (THREAD_PARSE_BYTES) the event loop takes the GIL between the calls,
    where one call held it 9 ms for 8 MB."""
    padding = text.find("=")
    # the steps stop a group of 4 before any padding: the last call decodes that group, the padding and whatever
    # follows it, so it accepts and refuses what one call would (a group of padding alone, say)
    end = len(text) if padding < 0 else max(0, padding // 4 * 4 - 4)
    bounds = [*range(0, end, BASE64_STEP), end, len(text)]
    return b"".join(base64.b64decode(text[start:stop], validate=True) for start, stop in zip(bounds, bounds[1:]))


async def read_image_request(request: Request, fields: type[T], json_model: type[BaseModel],
                             parsing: anyio.CapacityLimiter, allow_raw: bool = True) -> tuple[bytes, T]:
    """The image bytes and the validated fields of a request, whatever its encoding.

    Fields come from the JSON object or the form fields; a raw image body (``allow_raw``) has none. A large
    JSON body is parsed in a worker thread held from ``parsing`` (``parsing_limiter``).
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):  # a gzip body was read as "not valid JSON" or a broken image
        raise HTTPException(415, f"Content-Encoding {encoding[:20]!r} is not supported: send the body uncompressed")
    kind = media_type(request.headers.get("content-type"))
    if kind == "application/json" or kind.endswith("+json"):
        body = await request.body()
        if len(body) < THREAD_PARSE_BYTES:
            return _read_json(body, fields, json_model)
        return await anyio.to_thread.run_sync(_read_json, body, fields, json_model, limiter=parsing)
    if kind == "multipart/form-data":
        return await _read_multipart(request, fields)
    if allow_raw and (kind.startswith("image/") or kind in SNIFFED_TYPES):
        image = await request.body()
        if not image:
            raise unprocessable("the request body is empty: send the image file as the body")
        if kind.startswith("image/") or starts_like_image(image[:12]):
            return image, _validate(fields, {})  # a raw body has no fields: the caller uses the query
    usage = USAGE if allow_raw else USAGE.rsplit(",", 1)[0].replace(", a multipart", " or a multipart")
    if kind == "application/x-www-form-urlencoded":  # `curl -d '{"image": ...}'` sends JSON under this type
        usage += " (for JSON, say so: curl -H 'Content-Type: application/json'; for a form, curl -F file=@image.png)"
    raise HTTPException(415, f"unsupported Content-Type {kind or '(none)'!r}: {usage}")


def _read_json(body: bytes, fields: type[T], json_model: type[BaseModel]) -> tuple[bytes, T]:
    """The image and fields of a JSON body (``read_image_request``); CPU-bound, so a large body's runs in a thread."""
    # a byte-order mark, as Windows Notepad and PowerShell 5 save UTF-8, which JSON readers may ignore (RFC 8259):
    # it was "not valid JSON (expected value at line 1 column 1)"
    body = body.removeprefix(b"\xef\xbb\xbf")
    try:
        # strict: JSON has types of its own, and true for top_k or "2" for 2 is a mistake to point out
        parsed = json_model.model_validate_json(body, strict=True)
    except ValidationError as error:
        raise unprocessable(validation_message(error)) from None
    _json_keys_given_once(body)
    image = decode_base64_image(parsed.image)
    return image, _validate(fields, parsed.model_dump(exclude_unset=True, exclude={"image"}))


class _MultipartParser(MultiPartParser):
    """Starlette's multipart parser, noting whether the body reached its closing boundary: a body cut
    short parses as the parts before the cut, and its file then looked "missing"."""
    complete = False

    def on_end(self) -> None:
        self.complete = True


async def _read_multipart(request: Request, fields: type[T]) -> tuple[bytes, T]:
    form = None
    try:
        async with aclosing(request.stream()) as stream:
            parser = _MultipartParser(request.headers, stream, **FORM_LIMITS)
            form = await parser.parse()
        if not parser.complete:
            raise HTTPException(400, "malformed multipart body (it ends before its closing boundary: cut short?): "
                                     "send the whole body, or let the client build it (curl -F file=@image.png)")
        image = await _uploaded_image(form)
        # an empty field is one left blank, as in an HTML form: not given (Swagger UI's "Try it out" sends
        # every optional field it shows, blank ones as ""; "" was a 422 for top_k, and stored as `predicted`)
        given = {key: value for key, value in form.multi_items()
                 if key != "file" and isinstance(value, str) and value != ""}
        _each_given_once([key for key, _ in form.multi_items() if key != "file"])
    except HTTPException:
        raise  # ours, already worded for the user
    except MultiPartException as error:  # Starlette's own form errors ("Too many files...", "Missing boundary...")
        raise HTTPException(400, f"malformed multipart body ({error.message[:100].rstrip('.')}): {USAGE}; "
                                 f"at most {FORM_LIMITS['max_files']} file and {FORM_LIMITS['max_fields']} short "
                                 f"text fields{_TEXT_PART_HINT if 'maximum size' in error.message else ''}") from None
    except StarletteHTTPException:
        raise  # the 413 of the body size limit
    except Exception as error:  # python-multipart's parse errors have no common public base class
        raise HTTPException(400, f"malformed multipart body ({str(error)[:100]}): {USAGE}") from None
    finally:
        if form is not None:
            await form.close()  # the spooled upload files
    return image, _validate(fields, given)


async def _uploaded_image(form) -> bytes:
    uploads = form.getlist("file")
    if not uploads:
        raise unprocessable("field 'file': missing; upload the image in the multipart field 'file'")
    if len(uploads) > 1:  # two uploads, or an upload and a text field of that name: which is the image?
        raise unprocessable(f"field 'file': given {len(uploads)} times; upload one image")
    upload = uploads[0]
    if not isinstance(upload, UploadFile):
        raise unprocessable(f"field 'file': must be a file upload, not a text field{_TEXT_PART_HINT}")
    kind = media_type(upload.content_type)
    if not (kind.startswith("image/") or kind in GENERIC_TYPES):
        raise HTTPException(415, f"field 'file': {kind} is not an image; upload a PNG, JPEG, BMP, GIF, TIFF or WebP")
    image = await upload.read()
    if not image:
        raise unprocessable("field 'file': the uploaded file is empty")
    return image


def _each_given_once(keys: list[str]) -> None:
    """Refuse a field given more than once: which one was meant? The last silently won (a query option
    given twice is refused too)."""
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise unprocessable(f"field {twice[0][:40]!r}: given {keys.count(twice[0])} times; give it once")


def _json_keys_given_once(body: bytes) -> None:
    """``_each_given_once`` for every object of the JSON ``body`` (3 ms for 8 MB)."""
    def check(pairs: list[tuple[str, object]]) -> dict:
        _each_given_once([key for key, _ in pairs])
        return dict(pairs)

    try:
        json.loads(body, object_pairs_hook=check)
    except ValueError:  # pydantic parsed it; should json not, it is not a duplicate's fault
        pass


def _validate(fields: type[T], values: dict) -> T:
    try:
        return fields.model_validate(values)
    except ValidationError as error:
        raise unprocessable(validation_message(error)) from None
