"""The report's pictures, rendered with matplotlib to PNG bytes.

Figures are built with the object-oriented API on an Agg canvas, never through pyplot: no global
state, no display needed, nothing left open. Each ``render_*`` function returns the PNG as bytes
(or ``None`` when there is nothing to draw) so that the caller writes it atomically and embeds the
very same bytes in report.html. Images are uint8 (N, 28, 28), ink high as the model sees them; they
are drawn as dark ink on white, which is how people read handwriting.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np

DPI = 100
ANNOTATE_MAX_CLASSES = 20  # beyond this, numbers in the confusion matrix cells are unreadable
MISCLASSIFIED_COUNT = 32
MIN_ACCURACY_SPAN = 2.0  # percentage points the curves' accuracy axis spans at least...
MIN_LOSS_SPAN = 0.5  # ...and the loss axis, as a share of its top value
MISCLASSIFIED_COLUMNS = 8
TILE_LABEL = 9  # characters of a class name a misclassified tile's title holds (after "true "/"pred ")
SAMPLE_ROWS_PER_BLOCK = 24  # 47 or 62 classes are laid out in side-by-side blocks of rows
TILE = 28
GAP = 2
COLORBAR_TICKS = (0.0, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)
GAP_INK = 40  # light grey between tiles and in empty slots (on the 0..255 ink scale)
# Class labels in a monospaced font that ships with matplotlib: in DejaVu Sans, I and l (and O and 0)
# differ by a pixel; the mono face gives l a tail, I serifs and 0 a dot.
LABEL_FONT = "DejaVu Sans Mono"


def render_confusion_matrix(matrix, labels) -> bytes:
    """Row-normalized confusion matrix heat map (rows: true class, columns: predicted) as PNG."""
    from matplotlib import colormaps
    from matplotlib.colors import PowerNorm

    counts = np.asarray(matrix, dtype=np.float64)
    support = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(support > 0, counts / support, np.nan)  # NaN: no sample, drawn grey
    n = len(labels)
    side = max(5.0, 0.23 * n + 1.8)
    # Names longer than a few characters (a folder data set's classes) run into each other side by side:
    # the column names stand upright, below the matrix only, and the figure grows by the longest name
    # (about 0.085 inch a character at this size) down and to the left
    longest = max((len(_plain(label)) for label in labels), default=1)
    upright = longest > 3
    margin = 0.085 * longest + 0.3 if upright else 0.0
    fig, ax = _figure(side + 1.3 + margin, side + margin)
    # A square-root colour scale: with a linear one the diagonal is dark and every 1-5% error
    # is near-white, while those errors are what a reader looks for.
    cmap = colormaps["Blues"].with_extremes(bad="#dddddd")
    image = ax.imshow(rates, cmap=cmap, norm=PowerNorm(0.5, vmin=0.0, vmax=1.0), interpolation="nearest")
    ticks = np.arange(n)
    fontsize = 10 if n <= ANNOTATE_MAX_CLASSES else 9
    ax.set_xticks(ticks, labels=[_plain(label) for label in labels], fontsize=fontsize, family=LABEL_FONT,
                  rotation=90 if upright else 0)
    ax.set_yticks(ticks, labels=[_plain(label) for label in labels], fontsize=fontsize, family=LABEL_FONT)
    ax.tick_params(top=not upright, labeltop=not upright, length=0)
    ax.set_xticks(ticks[:-1] + 0.5, minor=True)
    ax.set_yticks(ticks[:-1] + 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=0.6 if n > ANNOTATE_MAX_CLASSES else 1.2)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    colorbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, ticks=COLORBAR_TICKS)
    colorbar.ax.set_yticklabels([f"{100 * tick:g}%" for tick in COLORBAR_TICKS])
    colorbar.set_label("share of the true class (square-root scale)")
    if n <= ANNOTATE_MAX_CLASSES:
        for (row, col), rate in np.ndenumerate(rates):
            if counts[row, col] > 0:
                ax.text(col, row, _percent(rate), ha="center", va="center", fontsize=8 if n > 12 else 9,
                        color="white" if rate > 0.5 else "black")
    ax.set_title("Confusion matrix (% of each true class)" if n <= ANNOTATE_MAX_CLASSES
                 else "Confusion matrix (share of each true class)", pad=12)
    return _png(fig)


def render_curves(history) -> bytes | None:
    """Loss and accuracy per epoch, training and validation, from a list of history dicts.

    Keys may be missing in some or all epochs; ``None`` when no epoch has any of them.
    """
    rows = [entry for entry in history or [] if isinstance(entry, dict)]
    panels = (("loss", "train_loss", "val_loss"), ("accuracy", "train_acc", "val_acc"))
    series = {key: [(entry.get("epoch", i + 1), entry[key]) for i, entry in enumerate(rows) if _is_number(entry.get(key))]
              for _, *keys in panels for key in keys}
    if not any(series.values()):
        return None
    from matplotlib.ticker import MaxNLocator

    fig, axes = _figure(10.0, 3.8, ncols=2)
    for ax, (title, train_key, val_key) in zip(axes, panels):
        # Training figures are running means over augmented batches, with the raw weights;
        # validation is measured on clean images with the shipped (averaged) weights.
        scale = 100 if title == "accuracy" else 1  # accuracy in %, as everywhere else in the report
        for key, name, style in ((train_key, "training (augmented batches)", "-"), (val_key, "validation", "--")):
            points = series[key]
            if points:
                epochs, values = zip(*points)
                ax.plot(epochs, [scale * value for value in values], style, marker="o" if len(points) <= 30 else None,
                        markersize=4, label=name)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)" if scale == 100 else "cross-entropy loss")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.set_ylim(*(accuracy_limits if scale == 100 else loss_limits)(*ax.get_ylim()))
            ax.legend()
            epochs = sorted({epoch for line in ax.lines for epoch in line.get_xdata()})
            if len(epochs) <= 12:
                ax.set_xticks(epochs)  # whole epochs, even for a run of one
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            ax.text(0.5, 0.5, f"no {title} recorded", ha="center", va="center", transform=ax.transAxes, color="grey")
    return _png(fig)


def accuracy_limits(low: float, high: float) -> tuple[float, float]:
    """The accuracy axis (in %) spanning at least ``MIN_ACCURACY_SPAN`` points, within 0-100: matplotlib's own,
    over a run of one epoch, spanned 88.90-89.02, and a 0.1-point gap looked like a chasm; its margins also took
    an axis past 100% (to 104 for a run at 100% from its second epoch), which no accuracy reaches."""
    if high - low >= MIN_ACCURACY_SPAN:
        return max(low, -0.5), min(high, 100.5)
    middle = min(max((low + high) / 2, MIN_ACCURACY_SPAN / 2), 100.5 - MIN_ACCURACY_SPAN / 2)  # (100% shown whole)
    return middle - MIN_ACCURACY_SPAN / 2, middle + MIN_ACCURACY_SPAN / 2


def loss_limits(low: float, high: float) -> tuple[float, float]:
    """The loss axis spanning at least ``MIN_LOSS_SPAN`` of its top value, not below 0 (0.38-0.40 filled the panel)."""
    span = MIN_LOSS_SPAN * max(abs(high), 1e-6)
    if high - low >= span:
        return low, high
    middle = max((low + high) / 2, span / 2)
    return middle - span / 2, middle + span / 2


def render_misclassified(images, y_true, probs, labels, count: int = MISCLASSIFIED_COUNT) -> bytes | None:
    """Grid of the ``count`` most confident mistakes (true label, prediction, confidence); ``None`` if none."""
    probs = np.asarray(probs)
    y_true = np.asarray(y_true)
    y_pred = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    wrong = worst_mistakes(y_true, probs)
    if wrong.size == 0:
        return None
    worst = wrong[:count]
    cols = min(MISCLASSIFIED_COLUMNS, len(worst))
    rows = math.ceil(len(worst) / cols)
    # at least 3.4 inches wide: the title is as long however few the mistakes (2 of them cut it off)
    fig, axes = _figure(max(3.4, 1.25 * cols + 0.2), 1.75 * rows + 0.6, nrows=rows, ncols=cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, index in zip(axes.flat, worst):
        ax.imshow(images[index], cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
        # the confidence on a line of its own and long class names cut: "pred my class 34%" ran into the next tile
        ax.set_title(f"true {_tile_label(labels[y_true[index]])}\npred {_tile_label(labels[y_pred[index]])}"
                     f"\n{_percent(confidence[index])}%", fontsize=9, family=LABEL_FONT)
    fig.suptitle("The one mistake" if wrong.size == 1 else f"All {wrong.size} mistakes, the most confident first"
                 if len(worst) == wrong.size else f"The {len(worst)} most confident mistakes of {wrong.size}", fontsize=11)
    return _png(fig)


def _tile_label(label) -> str:
    """A class name as a misclassified tile's title holds it: ``TILE_LABEL`` characters at most ("equals s…")."""
    text = str(label)
    return _plain(text if len(text) <= TILE_LABEL else text[:TILE_LABEL - 1] + "…")


def worst_mistakes(y_true, probs) -> np.ndarray:
    """Indices of the wrong predictions, the most confident first (ties in data order): the grid's order."""
    probs = np.asarray(probs)
    confidence = probs.max(axis=1)
    wrong = np.flatnonzero(probs.argmax(axis=1) != np.asarray(y_true))
    return wrong[np.argsort(-confidence[wrong], kind="stable")]


def render_samples(images, y_true, labels, per_class: int | None = None) -> bytes:
    """Example images, one row per class (the first ``per_class`` of each) as PNG."""
    y_true = np.asarray(y_true)
    n = len(labels)
    per_class = per_class or (10 if n <= 16 else 8)
    blocks = math.ceil(n / SAMPLE_ROWS_PER_BLOCK)
    rows_per_block = math.ceil(n / blocks)
    tile_inch = 0.42 if n <= 16 else 0.3
    fig, axes = _figure(blocks * (per_class * tile_inch + 0.5), rows_per_block * tile_inch + 0.6,
                        ncols=blocks, squeeze=False)
    for block, ax in enumerate(axes.flat):
        classes = range(block * rows_per_block, min(n, (block + 1) * rows_per_block))
        ax.imshow(_mosaic(images, y_true, classes, per_class), cmap="gray_r", vmin=0, vmax=255,
                  interpolation="nearest")
        centres = [(TILE + GAP) * i + GAP + TILE / 2 for i in range(len(classes))]
        ax.set_yticks(centres, labels=[_plain(labels[c]) for c in classes], fontsize=10 if n <= 16 else 9,
                      family=LABEL_FONT)
        ax.set_xticks([])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    fig.suptitle(f"First {per_class} images of each class", fontsize=11)
    return _png(fig)


def _mosaic(images, y_true, classes, per_class: int) -> np.ndarray:
    """One row of tiles per class, light grey between tiles and where a class has fewer images."""
    step = TILE + GAP
    canvas = np.full((len(classes) * step + GAP, per_class * step + GAP), GAP_INK, dtype=np.uint8)
    for row, cls in enumerate(classes):
        for col, index in enumerate(np.flatnonzero(y_true == cls)[:per_class]):
            top, left = GAP + row * step, GAP + col * step
            canvas[top:top + TILE, left:left + TILE] = images[index]
    return canvas


def _figure(width: float, height: float, **subplots):
    """A figure on an Agg canvas (no pyplot) and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(**subplots)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # said once, in a line of ours, by missing_glyphs' caller
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def missing_glyphs(labels) -> list[str]:
    """The characters of ``labels`` that the plots' label font cannot draw (each shows as a box)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    drawn = FT2Font(font_manager.findfont(LABEL_FONT)).get_charmap()
    return sorted({char for label in labels for char in _plain(label) if ord(char) not in drawn and not char.isspace()})


def _percent(rate: float) -> str:
    """A share as a percentage that never rounds a near-certainty up to a claim of 100."""
    value = 100 * rate
    if value >= 100:
        return "100"
    if value >= 99.95:
        return ">99.9"
    # A decimal where the differences are: small confusions, and the diagonal of a good model.
    return f"{value:.1f}" if value < 10 or value >= 90 else f"{value:.0f}"


def _plain(label) -> str:
    """A label as literal text: matplotlib would read '$...$' as math."""
    return str(label).replace("$", r"\$")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
