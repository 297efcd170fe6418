"""Images in, model inputs out: numpy + Pillow only, shared by training and torch-free inference.

* ``decode.load_image(source)``: any image (path, bytes, PIL, numpy) -> float32 ink map, ink 1.0
  on 0.0, with polarity, lighting and transparency handled; bad input raises InputImageError.
* ``preprocess.normalize(ink, recipe)`` / ``preprocess_image(source, recipe)``: the (28, 28)
  model input for the "mnist" or "emnist" recipe; blank input raises NoInkError.
* ``segment.segment(ink)``: lines of glyphs for images holding several characters.

Submodules are imported explicitly (``from inkread.imaging.decode import load_image``) so that
``import inkread`` stays light.
"""
