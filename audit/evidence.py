"""Evidence files: checked, cleaned of anything that could identify the auditor, and stored.

A photo's metadata (EXIF: GPS position, time, device, owner) would tell an institution who
visited and when, so every image is decoded and re-encoded from its pixels alone. Text
evidence is kept as UTF-8 text. An e-mail (.eml) is kept byte for byte: it is the original
organisers judge (and its signatures verify only on the exact bytes); what a director gets of
it is reduced at download (audit/redaction.py). No Flask here; the caller stores what `clean`
returns (audit/storage.py).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import N_, RuleError

MAX_IMAGE_BYTES = 15 * 1024 * 1024
MAX_TEXT_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 60_000_000  # a 60 MP photo; larger is refused before decoding (decompression bombs)
MAX_SIDE = 2560  # enough to read a notice board; keeps files small for reviewers on phones
IMAGE_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
TEXT_SUFFIXES = (".txt", ".eml")
EMAIL_SUFFIX = ".eml"


MESSAGES = {
    "empty": N_("The file is empty."),
    "too_large": N_("The file is too large (at most %(mb)d MB)."),
    "too_many_pixels": N_("The image is too large (at most %(mp)d megapixels)."),
    "not_image": N_("Only JPEG, PNG or WebP images, or .txt/.eml text files, can be attached."),
    "not_text": N_("This file is not text."),
}


class EvidenceError(RuleError):
    """A file that cannot be accepted; `code` says why (and picks the message), `limit` the bound."""

    status = 422

    def __init__(self, code: str, limit: int | None = None) -> None:
        super().__init__(MESSAGES[code], mb=(limit or 0) // (1024 * 1024), mp=(limit or 0) // 1_000_000)
        self.code = code
        self.limit = limit


class EvidenceTooLarge(EvidenceError):
    """More bytes or pixels than a file of its kind may have."""

    status = 413


@dataclass(frozen=True)
class CleanFile:
    kind: str
    """"image", "text" or "email"."""
    content: bytes
    content_type: str
    suffix: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def clean(filename: str, data: bytes) -> CleanFile:
    """Check an uploaded file and return it in the form it is stored in."""
    if not data:
        raise EvidenceError("empty")
    if filename.lower().endswith(EMAIL_SUFFIX):
        return clean_email(data)
    if filename.lower().endswith(TEXT_SUFFIXES):
        return clean_text(data)
    return clean_image(data)


def clean_text(data: bytes) -> CleanFile:
    if len(data) > MAX_TEXT_BYTES:
        raise EvidenceTooLarge("too_large", MAX_TEXT_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1250", errors="replace")  # older Polish mail clients
    if "\x00" in text:
        raise EvidenceError("not_text")
    return CleanFile("text", text.encode("utf-8"), "text/plain; charset=utf-8", ".txt")


def clean_email(data: bytes) -> CleanFile:
    """An e-mail as the auditor saved it, unchanged; refused only when too large or binary."""
    if len(data) > MAX_TEXT_BYTES:
        raise EvidenceTooLarge("too_large", MAX_TEXT_BYTES)
    if b"\x00" in data:
        raise EvidenceError("not_text")
    return CleanFile("email", data, "message/rfc822", EMAIL_SUFFIX)


def clean_image(data: bytes) -> CleanFile:
    """Decode, orient, shrink and re-encode an image; only its pixels survive."""
    if len(data) > MAX_IMAGE_BYTES:
        raise EvidenceTooLarge("too_large", MAX_IMAGE_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise EvidenceTooLarge("too_many_pixels", MAX_IMAGE_PIXELS)
                fmt = img.format or "JPEG"
                img.load()
                oriented = ImageOps.exif_transpose(img)  # turn the pixels as the camera meant, then drop the tag
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError) as exc:
        if isinstance(exc, EvidenceError):
            raise
        raise EvidenceError("not_image") from None
    oriented.thumbnail((MAX_SIDE, MAX_SIDE))
    pixels = _pixels_only(oriented)
    out = io.BytesIO()
    if fmt == "PNG":  # screenshots: lossless
        pixels.save(out, "PNG", optimize=True)
        fmt_out = "PNG"
    else:
        if pixels.mode not in ("RGB", "L"):
            pixels = pixels.convert("RGB")
        pixels.save(out, "JPEG", quality=85, optimize=True)
        fmt_out = "JPEG"
    content_type, suffix = IMAGE_FORMATS[fmt_out]
    return CleanFile("image", out.getvalue(), content_type, suffix)


def _pixels_only(img: Image.Image) -> Image.Image:
    """A new image holding nothing but the pixels (no EXIF, XMP, ICC comments or text chunks)."""
    mode = img.mode if img.mode in ("RGB", "RGBA", "L", "LA") else ("RGBA" if "A" in img.getbands() else "RGB")
    source = img if img.mode == mode else img.convert(mode)
    bare = Image.new(mode, source.size)
    bare.paste(source)
    return bare


def safe_display_name(filename: str) -> str:
    """The uploaded name, shortened and without a path, for listing only (never a storage path)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    return "".join(ch for ch in name if ch.isprintable())[:120]
