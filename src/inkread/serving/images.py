"""PNG encoding for the API: the 28x28 model input as a data URL, uploads re-encoded for storage."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from inkread.errors import InputImageError
from inkread.imaging.decode import open_image
from inkread.imaging.ink import gray_uint8, high_bit_depth
from inkread.imaging.levels import to_uint8

PNG_MODES = ("1", "L", "LA", "P", "RGB", "RGBA")


def png_bytes(image: Image.Image) -> bytes:
    """``image`` encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)  # optimize=False: speed over a few bytes
    return buffer.getvalue()


def model_input_data_url(pixels: np.ndarray) -> str:
    """A ``data:image/png;base64,`` URL of a float 0..1 (28, 28) ink-high array, as the model sees it."""
    gray = to_uint8(np.asarray(pixels, dtype=np.float32), 255.0)
    return "data:image/png;base64," + base64.b64encode(png_bytes(Image.fromarray(gray))).decode("ascii")


def as_png(data: bytes) -> bytes:
    """``data`` decoded as the recognizer decodes it (``open_image``: upright, no EXIF, a large photo reduced
    to ``WORK_PIXELS``) and re-encoded as PNG of its pixels alone, for storage; a PNG too.

    PNGs were kept as sent: a 28x28 PNG carrying a 7 MB private chunk was stored and served back whole
    (250 clients not reading GET .../image held ~1 GB). Only the transparency of the pixels is kept,
    no text, EXIF or ICC chunks. A 144 MP JPEG of 1.7 MB, which the recognizer decodes at 1/8 scale,
    took 312 MB to store when it was decoded whole here.
    """
    image = open_image(data)  # bombs, broken files: InputImageError
    # the pixels' meaning stays (a palette's or gray's transparent entry); every other chunk goes
    image.info = {key: value for key, value in image.info.items() if key == "transparency"}
    try:
        if high_bit_depth(image):  # 32-bit or float gray: Pillow writes neither as PNG; 8 bits as the model read them
            image = Image.fromarray(gray_uint8(image))
        elif image.mode not in PNG_MODES:  # CMYK, YCbCr...: PNG cannot hold them
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        return png_bytes(image)
    except (OSError, ValueError) as error:
        raise InputImageError(f"cannot convert the image to PNG ({error}): upload a PNG") from None
