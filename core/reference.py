"""Which clip's timeline a capture is built on, when the user does not say.

The engine reconstructs the motion on the reference clip's timeline: a frame of another clip that
falls outside it has no shared motion to lean on and is fitted from its own view alone. Internet
clips rarely start and stop together, and the clips' order (a folder's, by name) says nothing of
which one shows the most. On the protocol's 18 DeepMimic runs (4 views, seeds 0-2) with the first
clip cut to its first 70% (``bench run --stage full --cut-first 0.7``), PA-MPJPE over all clips'
frames was 55.4 mm with that clip as the reference (``--reference 0``), 25.0 mm with this choice
(14.5 mm uncut).

The choice: the longest clip in time (its frames at the frame rates' pace against the first clip's),
among those whose motion matched the first clip's. The synchroniser's first answer measures each
clip's pace too, but not well enough to judge by: where a clip runs past the first clip's end its
frames are squeezed onto the first clip's last few (on those 18 runs a clip spanning 45 reference
frames measured 36), and a short first clip of another action (DeepMimic walk before three punch
clips) matched stretches of the others at a third of their pace, with confidence 0.99. A clip in
slow motion counts as long: it is then the reference, and the others run at several of its frames
per frame.
"""

from __future__ import annotations

import numpy as np

# a clip replaces the first as the reference only when it spans this much more of the timeline
# (a fraction of the first clip's span, and at least MIN_GAIN frames): clips that span the same
# action keep the user's order
GAIN = 0.05
MIN_GAIN = 2.0


def clip_spans(corr, fps: list[float]) -> np.ndarray:
    """(M,) how many of ``corr``'s reference frames each clip spans at the frame rates' pace."""
    ref = corr.reference
    return np.array([(len(rt) - 1) * fps[ref] / fps[j] for j, rt in enumerate(corr.ref_time)], float)


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
