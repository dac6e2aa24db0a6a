"""Open a photograph as full-resolution CIE L*, plus the metadata an export keeps.

:func:`load_image` accepts JPEG, PNG, TIFF, WebP and BMP in 8 or 16 bits, gray,
RGB, RGBA, LA, palette and CMYK. Before L* is computed the image is put in the
state a viewer shows: EXIF orientation applied, embedded ICC profile converted
to sRGB, transparency composited over white. L* follows
:func:`polychrome.core.color.rgb_to_lab` exactly (sRGB, D65).

Every problem with the file itself becomes one :class:`ImageLoadError` whose
message names the file and says in plain words what is wrong; the caller never
sees a decoder's traceback.

16-bit data keeps its precision into L*: 16-bit TIFF is read with tifffile and
16-bit colour PNG with imagecodecs (Pillow would reduce both to 8 bits); 16-bit
gray PNG is exact in Pillow's ``I;16`` mode.

The package, one module a job: :mod:`.load` (dispatch and error wording),
:mod:`.pillow` (Pillow's formats), :mod:`.tiff` (tifffile), :mod:`.exif`
(orientation, EXIF kept for exports), :mod:`.icc` (profiles via ImageCms),
:mod:`.pixels` (alpha, colour detection, L*), :mod:`.errors`.
"""

from ..formats import SUPPORTED_SUFFIXES
from .errors import MAX_PIXELS, ImageLoadError
from .load import load_image
from .pixels import COLOR_CHROMA_THRESHOLD, COLOR_NOTICE, LoadedImage, is_probably_color

__all__ = [
    "COLOR_CHROMA_THRESHOLD",
    "COLOR_NOTICE",
    "MAX_PIXELS",
    "SUPPORTED_SUFFIXES",
    "ImageLoadError",
    "LoadedImage",
    "is_probably_color",
    "load_image",
]
