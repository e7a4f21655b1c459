"""Photo bytes, checked and cleaned with Pillow: what an upload is, its location data, thumbnails.

Pure functions on bytes (no Flask, no SQL), shared by the upload service and the thumbnail job.

* `inspect` decides what an upload is by its CONTENT: Pillow must identify it as JPEG, PNG or
  WebP, `verify()` it, then decode it fully (a truncated file fails there: Pillow's `verify` does
  not read JPEG scan data). Pillow's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`) is
  enforced as an error from the first pixel over it, not only above twice the limit.
* `strip_location` removes the GPS IFD from the EXIF block and drops XMP packets (which can carry
  the same coordinates) by editing the container (JPEG segments, PNG chunks, WebP RIFF chunks):
  the compressed pixels are copied byte for byte, so nothing is re-encoded and every other EXIF
  tag (orientation, camera, time) stays.
* `thumbnail` makes a bounded JPEG (orientation applied, no metadata at all).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
THUMBNAIL_PX = 320
THUMBNAIL_TYPE = "image/jpeg"
GPS_IFD = int(ExifTags.IFD.GPSInfo)
_EXIF_PREFIX = b"Exif\x00\x00"
_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXT_JPEG = b"http://ns.adobe.com/xmp/extension/\x00"
# PNG text chunks that carry EXIF (ImageMagick's hex "raw profiles") or XMP.
_PNG_META_KEYWORDS = (b"raw profile type exif", b"raw profile type app1", b"raw profile type xmp",
                      b"xml:com.adobe.xmp")


class ImageRejected(Exception):
    """Not an image we accept; `code` is the API's machine code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ImageInfo:
    format: str  # JPEG, PNG or WEBP
    content_type: str
    width: int
    height: int
    has_location: bool


def _xmp_has_location(info: dict) -> bool:
    """XMP can repeat the coordinates (exif:GPSLatitude ...): count it as location data too."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = info.get(key)
        if isinstance(value, str):
            value = value.encode("utf-8", "replace")
        if isinstance(value, bytes) and (b"gpslatitude" in value.lower() or b"gpslongitude" in value.lower()):
            return True
    return False


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def inspect(data: bytes) -> ImageInfo:
    """Identify, verify and fully decode `data`; raise ImageRejected unless it is a sound
    JPEG, PNG or WebP within Pillow's pixel limit."""
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _open(data) as image:
                fmt = image.format
                if fmt not in FORMATS:
                    raise ImageRejected("unsupported_image",
                                        f"Only JPEG, PNG and WebP images are accepted (this is {fmt or 'unknown'}).")
                image.verify()
            # verify() leaves the image unusable; a second open decodes every pixel, which is
            # where a truncated or corrupt body fails.
            with _open(data) as image:
                image.load()
                width, height = image.size
                has_location = GPS_IFD in image.getexif() or _xmp_has_location(image.info)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(
                "image_too_large",
                f"The image has more than {Image.MAX_IMAGE_PIXELS} pixels; it is refused as a possible "
                "decompression bomb.") from None
        except UnidentifiedImageError:
            raise ImageRejected("unsupported_image",
                                "The file is not a JPEG, PNG or WebP image (checked by its content).") from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError,
                MemoryError, zlib.error) as exc:
            raise ImageRejected("unsupported_image", f"The image is damaged or truncated ({exc}).") from None
    return ImageInfo(fmt, FORMATS[fmt], width, height, has_location)


# -- location removal ---------------------------------------------------------------------------


def _exif_without_gps(tiff: bytes) -> bytes | None:
    """The EXIF (TIFF) block minus its GPS IFD, or None if it has none (leave it untouched).

    The GPS IFD is never read (`get_ifd`), so Exif.tobytes cannot write it back.
    """
    exif = Image.Exif()
    exif.load(tiff)
    if GPS_IFD not in exif:
        return None
    del exif[GPS_IFD]
    return exif.tobytes()[len(_EXIF_PREFIX):]


def _strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    out = [data[:2]]
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            out.append(data[pos:pos + 1])
            pos += 1
            continue
        if marker == 0xDA or 0xD0 <= marker <= 0xD9 or marker == 0x01:
            break  # start of scan (or a marker without length): the rest is pixels, copied as is
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        segment = data[pos:pos + 2 + length]
        payload = segment[4:]
        if marker == 0xE1 and payload.startswith(_EXIF_PREFIX):
            cleaned = _exif_without_gps(payload[len(_EXIF_PREFIX):])
            if cleaned is not None:
                body = _EXIF_PREFIX + cleaned
                segment = b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body
        elif marker == 0xE1 and (payload.startswith(_XMP_JPEG) or payload.startswith(_XMP_EXT_JPEG)):
            segment = b""
        out.append(segment)
        pos += 2 + length
    out.append(data[pos:])
    return b"".join(out)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _strip_png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise ValueError("not a PNG")
    out = [signature]
    pos = len(signature)
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        chunk = data[pos:pos + 12 + length]
        if kind == b"eXIf":
            cleaned = _exif_without_gps(body)
            if cleaned is not None:
                chunk = _png_chunk(kind, cleaned)
        elif kind in (b"tEXt", b"zTXt", b"iTXt") and body.split(b"\x00", 1)[0].lower() in _PNG_META_KEYWORDS:
            chunk = b""
        out.append(chunk)
        pos += 12 + length
        if kind == b"IEND":
            break
    out.append(data[pos:])
    return b"".join(out)


def _strip_webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        length = int.from_bytes(data[pos + 4:pos + 8], "little")
        chunks.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 8 + length + (length & 1)
    result = []
    for kind, body in chunks:
        if kind == b"EXIF":
            prefixed = body.startswith(_EXIF_PREFIX)
            cleaned = _exif_without_gps(body[len(_EXIF_PREFIX):] if prefixed else body)
            if cleaned is not None:
                body = (_EXIF_PREFIX if prefixed else b"") + cleaned
        elif kind == b"XMP ":
            continue
        elif kind == b"VP8X" and body:
            body = bytes([body[0] & ~0x04]) + body[1:]  # the "has XMP" flag: the chunk is gone
        result.append(kind + len(body).to_bytes(4, "little") + body + (b"\x00" if len(body) & 1 else b""))
    payload = b"WEBP" + b"".join(result)
    return b"RIFF" + len(payload).to_bytes(4, "little") + payload


def strip_location(data: bytes, info: ImageInfo) -> bytes:
    """`data` without EXIF GPS and XMP; the same bytes when there is nothing to remove."""
    strip = {"JPEG": _strip_jpeg, "PNG": _strip_png, "WEBP": _strip_webp}[info.format]
    try:
        cleaned = strip(data)
    except (ValueError, IndexError, struct.error, SyntaxError) as exc:
        raise ImageRejected("unsupported_image", f"The image's metadata could not be read ({exc}).") from None
    if cleaned == data:
        return data
    # The edited file must still be the same, sound image, and now without location.
    after = inspect(cleaned)
    if (after.format, after.width, after.height) != (info.format, info.width, info.height) or after.has_location:
        raise ImageRejected("unsupported_image", "The image's location data could not be removed safely.")
    return cleaned


# -- thumbnails ---------------------------------------------------------------------------------


def thumbnail(data: bytes, size: int = THUMBNAIL_PX) -> bytes:
    """A JPEG at most `size` px on each side, turned upright by its EXIF orientation, no metadata."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with _open(data) as image:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much less memory
            upright = ImageOps.exif_transpose(image)
            if upright.mode not in ("RGB", "L"):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            upright.thumbnail((size, size), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=82, optimize=True)
            return out.getvalue()
