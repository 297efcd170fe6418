"""Bring a character written fainter than its neighbours up to their strength.

An ink map is stretched so that the stroke cores of the writing are 1.0. A digit written in pencil
beside digits in pen, or pressed lightly, then stays below the 0.5 at which ``segment`` sees ink:
it was dropped ("8 7" for 837) or broken into pieces, and in a photo it went with the specks. Each
mark that is character-sized (about as tall as the bold marks) but only faint is scaled by its own
stroke level, as if it had been stretched alone. Marks standing less than ``FAINT_CONTRAST`` above the paper
stay as they are (show-through from the back of the page, erased pencil, the grain of textured
paper), and so do marks not of a character's height (rules, the lines of squared paper, the dots of
dotted paper, specks) and marks touching the image's edge.
"""

from __future__ import annotations

import numpy as np

from inkread.imaging import components
from inkread.imaging.levels import weighted_median
from inkread.imaging.stroke import rank_filter

FAINT_CONTRAST = 0.12  # a faint character is at least 12% darker than the paper (show-through is less)
FAINT_PEAK_MAX = 0.6  # a mark peaking above this (in ink units) is read already
BOLD_PEAK = 0.9  # marks peaking above this are the writing the faint ones are measured against
FAINT_HEIGHT = (0.5, 2.0)  # a faint mark is this many times the bold marks' typical height (a character's)
CORE_SHARE = 0.75  # a faint mark's core (mean of its pixels above half its peak) becomes 1 / 0.75: its stroke
#                    cores reach 1, as a bold stroke's do (stretched to the median of its cores, half of them clip)
MARK_REACH = 2  # pixels: ink this close is one mark (a noisy faint stroke dips below its floor here and there)


def faint_peak(paper: float, low: float, high: float) -> float:
    """The ink value of ``FAINT_CONTRAST`` above the paper, for an ink map stretched from contrast
    levels ``low`` (ink 0) to ``high`` (ink 1), the paper at contrast level ``paper`` (all 0..255)."""
    return (paper + FAINT_CONTRAST * 255.0 - low) / max(high - low, 1e-6)


def lift_faint_marks(ink: np.ndarray, least_peak: float) -> np.ndarray:
    """``ink`` with each faint character-sized mark scaled by its own stroke level (a new array), or ``ink`` itself.

    A faint mark peaks between ``least_peak`` (see ``faint_peak``) and ``FAINT_PEAK_MAX``; it is the
    ink above half its least peak, with what lies within ``MARK_REACH`` of it (its anti-aliased rim).
    """
    least_peak = max(least_peak, 0.05)
    if least_peak >= FAINT_PEAK_MAX:
        return ink
    found = components.label(rank_filter(ink > least_peak / 2, MARK_REACH))
    if found.count < 2:
        return ink
    inked = found.labels > 0
    labels = found.labels[inked]
    peaks = np.zeros(found.count + 1, np.float32)
    np.maximum.at(peaks, labels, ink[inked])
    peaks = peaks[1:]
    bold = peaks >= BOLD_PEAK
    faint = (peaks >= least_peak) & (peaks < FAINT_PEAK_MAX)
    if not bold.any() or not faint.any():
        return ink
    heights = found.boxes[:, 3] - found.boxes[:, 1]
    typical = weighted_median(heights[bold], found.areas[bold])
    faint &= (heights >= FAINT_HEIGHT[0] * typical) & (heights <= FAINT_HEIGHT[1] * typical)
    # ...and inside the image: what is left of a shadow's edge where it leaves the photo (its lit side beyond
    # the image, its ring cut short) is faint, and was brought up as a stroke beside the writing ("2" -> "6")
    boxes = found.boxes
    faint &= (boxes[:, 0] > 0) & (boxes[:, 1] > 0) & (boxes[:, 2] < ink.shape[1]) & (boxes[:, 3] < ink.shape[0])
    if not faint.any():
        return ink
    values = ink[inked]
    core = values >= 0.5 * peaks[labels - 1]  # a mark's core: its ink above half its peak
    # ...and tall in one piece of its core: rules broken up by a shadow and joined by a photo's noise make a
    # mark as tall as a character, whose core is flat strips (brought up under a 2, it was read as 3)
    pieces_mask = np.zeros(ink.shape, bool)
    pieces_mask[inked] = core & faint[labels - 1]
    pieces = components.label(rank_filter(pieces_mask, MARK_REACH) & inked)
    pieces_mask = pieces.labels > 0
    owners = np.zeros(pieces.count, np.int64)
    np.maximum.at(owners, pieces.labels[pieces_mask] - 1, found.labels[pieces_mask])
    tallest = np.zeros(found.count + 1, np.int64)
    np.maximum.at(tallest, owners, pieces.boxes[:, 3] - pieces.boxes[:, 1])
    faint &= tallest[1:] >= FAINT_HEIGHT[0] * typical
    if not faint.any():
        return ink
    # Scaled by its core, not its peak: in a noisy photo the peak is a noise pixel's, and the stroke
    # scaled by it wavered about 0.5, cut in pieces that read as dots ("94.3").
    cores = np.bincount(labels[core], values[core], found.count + 1) / np.maximum(
        np.bincount(labels[core], minlength=found.count + 1), 1)
    gain = np.ones(found.count + 1, np.float32)
    gain[1:][faint] = 1.0 / (CORE_SHARE * cores[1:][faint])
    lifted = ink.copy()
    lifted[inked] = np.minimum(values * gain[labels], 1.0)
    return lifted
