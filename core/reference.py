"""Which clip's timeline a capture is built on, when the user does not say.

The engine reconstructs the motion on the reference clip's timeline: a frame of another clip that
falls outside it has no shared motion to lean on and is fitted from its own view alone. On the
protocol's 18 DeepMimic runs (4 views, seeds 0-2) with the first clip cut to its first 70%
(``bench run --cut-first 0.7``), PA-MPJPE over all clips' frames was 55.4 mm with that clip as the
reference, 14.5 mm uncut. Internet clips rarely start and stop together, and the clips' order (a
folder's, by name) says nothing of which one shows the most.

So the clip that spans the longest stretch of the action becomes the reference: its length in
frames at the frame rates' pace against the first clip. The synchroniser's first answer, against
the first clip, gives each clip's pace too, but it is biased where a clip runs past the first
clip's ends (its frames there are squeezed onto the last few reference frames: on those 18 runs a
clip spanning 45 reference frames measured 36); it is used only where it says the clip runs at a
different speed altogether (slow motion).
"""

from __future__ import annotations

import numpy as np

# a clip replaces the first as the reference only when it spans this much more of the timeline
# (a fraction of the first clip's span, and at least MIN_GAIN frames): clips that span the same
# action keep the user's order
GAIN = 0.05
MIN_GAIN = 2.0
# a measured pace within these factors of the frame rates' ratio is the same speed
SAME_SPEED = (0.6, 1.6)
END_FRAMES = 3  # reference frames at either end where the alignment squeezes an overhanging clip
MAX_SAMPLES = 200  # matched frames the pace is measured on (all pairs of them)


def measured_pace(ref_time: np.ndarray, n_ref: int) -> float:
    """Reference frames per clip frame that a clip's matched times keep away from the reference's
    ends: the median slope over pairs of matched frames at least a quarter of them apart
    (Theil-Sen); NaN with under 6 such frames."""
    rt = np.asarray(ref_time, float)
    inside = np.flatnonzero(np.isfinite(rt) & (rt >= END_FRAMES) & (rt <= n_ref - 1 - END_FRAMES))
    if len(inside) < 6:
        return float("nan")
    inside = inside[np.unique(np.linspace(0, len(inside) - 1, min(len(inside), MAX_SAMPLES)).astype(int))]
    a, b = np.meshgrid(inside, inside, indexing="ij")
    far = b - a >= max(2, len(inside) // 4)
    return float(np.median((rt[b[far]] - rt[a[far]]) / (b[far] - a[far])))


def clip_spans(corr, fps: list[float]) -> np.ndarray:
    """(M,) how many of ``corr``'s reference frames each clip spans (see the module docstring)."""
    ref = corr.reference
    n_ref = len(corr.clip_time[ref])
    spans = np.empty(len(corr.ref_time))
    for j, rt in enumerate(corr.ref_time):
        nominal = fps[ref] / fps[j]  # reference frames per clip frame
        pace = nominal
        if j != ref:
            measured = measured_pace(rt, n_ref)
            if np.isfinite(measured) and not SAME_SPEED[0] <= measured / nominal <= SAME_SPEED[1]:
                pace = measured
        spans[j] = (len(rt) - 1) * pace
    return spans


def choose_reference(corr, fps: list[float], min_confidence: float) -> tuple[int, np.ndarray]:
    """The clip that spans the most of the action and every clip's span (M,) in ``corr``'s
    reference frames (NaN: not a candidate). Clips whose motion matched poorly (confidence under
    ``min_confidence``) are not candidates; ``corr``'s own reference stays unless another clip
    spans more by the margin (``GAIN``, ``MIN_GAIN``)."""
    span = clip_spans(corr, fps)
    ok = np.asarray(corr.confidence) >= min_confidence
    ref = corr.reference
    ok[ref] = True
    best = int(np.argmax(np.where(ok, span, -np.inf)))
    if span[best] - span[ref] <= max(MIN_GAIN, GAIN * span[ref]):
        best = ref
    return best, np.where(ok, span, np.nan)
