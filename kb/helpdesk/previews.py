"""Previews of image attachments: a small thumbnail re-encoded from the decoded pixels (Pillow, wrapped here).

Only the pixels survive: EXIF (camera, GPS position), XMP, ICC profiles, comments and whatever a polyglot file
hides after its image data are not copied into the new file. The image's size is read from its header before any
pixel is decoded, and an image of more than MAX_PIXELS pixels gets no preview (a small file that claims
100,000 × 100,000 pixels is a decompression bomb). Pillow is told which format to expect, so a file is decoded by
the one decoder its sniffed type names and no other.
"""
from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

PREVIEW_SIZE = 320
MAX_PIXELS = 40_000_000  # a 50-megapixel camera is 8,192 × 6,144: beyond that it is not a screenshot
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
PREVIEW_TYPES = tuple(_FORMATS)


def preview(data: bytes, mime: str) -> tuple[bytes, str] | None:
    """A thumbnail of at most PREVIEW_SIZE pixels a side as (bytes, MIME type): JPEG for a photo, PNG otherwise;
    None when `data` is no image of type `mime` that can be decoded safely."""
    if mime not in _FORMATS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_FORMATS[mime]]) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    return None
                image.draft("RGB", (PREVIEW_SIZE * 2, PREVIEW_SIZE * 2))  # JPEG: decode at a reduced scale
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
                mode = "RGBA" if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info else "RGB"
                pixels = upright.convert(mode)
                # A new image from the raw pixels: it has no `info` (EXIF, ICC, text chunks) to carry over.
                clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    out = io.BytesIO()
    if mime == "image/jpeg" and mode == "RGB":
        clean.save(out, "JPEG", quality=85)
        return out.getvalue(), "image/jpeg"
    clean.save(out, "PNG", optimize=True)
    return out.getvalue(), "image/png"
