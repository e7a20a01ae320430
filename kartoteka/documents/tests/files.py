"""Files for upload tests, made on the spot (no binary fixtures in the repository)."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS = {1: "N", 2: (55.0, 45.0, 12.5), 3: "E", 4: (37.0, 37.0, 1.25)}


def pdf_bytes(size: int = 0) -> bytes:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    if size > len(body):
        body += b"%" + b"0" * (size - len(body) - 1)
    return body


def jpeg_bytes(width: int = 800, height: int = 600, *, gps: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 120, 60))
    for x in range(0, width, 10):  # some detail, so it is a real picture
        image.putpixel((x, x * height // width), (0, 0, 0))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "SpyCam"  # Make
        exif[0x0132] = "2024:05:01 10:00:00"  # DateTime
        exif[0x8825] = GPS  # GPSInfo
        image.save(out, "JPEG", exif=exif.tobytes())
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def png_bytes(*, alpha: bool = False) -> bytes:
    image = Image.new(
        "RGBA" if alpha else "RGB", (40, 30), (10, 200, 10, 128) if alpha else (1, 2, 3)
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
DAMAGED_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x13\x37" * 300


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    """An uploaded file as a form would send it (the browser's content type is not trusted)."""
    return SimpleUploadedFile(name, content, content_type=content_type)
