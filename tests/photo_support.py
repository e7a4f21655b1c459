"""Images made with Pillow for the photo tests, and small helpers to upload them."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

GPS = int(ExifTags.IFD.GPSInfo)
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), color=(30, 120, 200),
                exif: Image.Exif | None = None) -> bytes:
    image = Image.new("RGB", size, color)
    # A gradient, so that encoders produce real scan data and a truncated file is really damaged.
    for x in range(0, size[0], 8):
        for y in range(0, size[1], 8):
            image.putpixel((x, y), ((x * 7) % 256, (y * 3) % 256, (x + y) % 256))
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def gps_exif() -> Image.Exif:
    """EXIF with an orientation, a camera maker and a GPS IFD (Pillow's Exif API)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "RackCam"
    exif[GPS] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 22.0, 7.5),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (4.0, 53.0, 2.25),
    }
    return exif


def stored_exif(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as image:
        return image.getexif()


def bomb_png(side: int = 9_500) -> bytes:
    """A valid grey PNG of side x side pixels (far above Pillow's limit) that is only ~100 KB."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * side
    parts = [compressor.compress(row) for _ in range(side)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def upload(client, device_id: str, headers: dict, data: bytes, filename: str = "rack.jpg", **fields):
    form = {"file": (io.BytesIO(data), filename), **fields}
    return client.post(f"/api/v1/devices/{device_id}/photos", data=form, headers=headers,
                       content_type="multipart/form-data")
