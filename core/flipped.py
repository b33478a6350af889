"""Clips that are mirror images: horizontally flipped videos (re-uploads, front cameras, which
mirror by default).

A flipped clip shows a mirror-image performer, and the detector labels its limbs by how they look:
its "left" wrist is the performer's right one. No camera sees the performer that way, so such a clip
pulls the capture apart (DeepMimic kick, 4 views, seed 0, clip 1 flipped: the other clips' PA-MPJPE
14.2 -> 38.1 mm, that camera 84 degrees out) or, for a motion alike on both sides, sits in it as a
camera half a turn out (walk: 131 degrees).

The test: two views of one rigid scene obey epipolar geometry, and left and right swapped break it
unless the motion is symmetric. Each clip is synchronised with the reference alone, as it is and
unflipped (its x mirrored, left and right swapped back), and the fraction of their matched
keypoints that an essential matrix explains is compared. A flipped clip of an asymmetric motion
fits far better unflipped; a symmetric one (walk, run, jump) fits both ways alike and is left as it
is (the capture's misfit check may still name it). On the DeepMimic kick, punch and spinkick
(seeds 0-2, each non-reference clip flipped in turn, and the reference) 35 of 36 flipped clips are
found; of the 18 runs' unflipped clips, none is.

Two takes of an action done with the other hand or foot look exactly like a flipped video: 2D
geometry cannot tell them apart. Of the different-takes benchmark's 12 problems (``bench run
--vary``, cmu_01_jumps) one take is found (90 frames, seed 4, fit 0.49 as it is and 0.80 unflipped)
and captured unflipped, a mirror image of its own performance: 30.4 -> 36.5 mm PA-MPJPE there. The
capture says which clips it unflipped, and ``--keep-mirrored`` takes every clip as it is.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .body import COCO_NAMES
from .relpose import find_essential, matched_keypoints
from .sync import SyncSettings, features_2d, synchronise


def _partner(name: str) -> str:
    for a, b in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(a):
            return b + name[len(a):]
    return name


SWAP = np.array([COCO_NAMES.index(_partner(n)) for n in COCO_NAMES])  # each keypoint's mirror partner
# unflipped, a clip's epipolar fit must be better by this fraction of its keypoint pairs. On the
# DeepMimic captures (seeds 0-1, 4 views) an unflipped trial of a clip that is not flipped gained
# at most 0.07 (walk, run, jump) and lost 0.36-0.60 (kick)
MIN_GAIN = 0.25
THRESHOLD = 8.0  # pixels (at a focal length of the image's larger side) for a pair to fit
MIN_PAIRS = 50


def unflip(tracks):
    """``tracks`` (Tracks2D) of a horizontally flipped video as the unflipped video's would be: x
    mirrored about the image's middle, left and right keypoints swapped."""
    width = tracks.size[0]
    kp = tracks.keypoints.copy()
    kp[..., 0] = width - kp[..., 0]
    box = tracks.bbox.copy()
    box[:, [0, 2]] = width - tracks.bbox[:, [2, 0]]
    return replace(tracks, keypoints=kp[:, SWAP], confidence=tracks.confidence[:, SWAP], bbox=box)


def epipolar_fit(ref_tracks, tracks, fps: tuple[float, float], settings: SyncSettings) -> float:
    """The fraction of two clips' matched keypoints (the clips synchronised on their own) that one
    essential matrix explains; NaN with too few pairs."""
    pair = [ref_tracks, tracks]
    feats, valid = features_2d(pair)
    corr = synchronise(feats, list(fps), valid, replace(settings, reference=0, cycle="none"), kind="2d")
    a, b = matched_keypoints(pair, corr, 0, 1)
    if len(a) < MIN_PAIRS:
        return float("nan")
    norm = [(x - np.array(t.size) / 2) / max(t.size) for x, t in ((a, ref_tracks), (b, tracks))]
    e, inliers = find_essential(norm[0], norm[1], THRESHOLD / max(tracks.size))
    if e is None or inliers is None:
        return 0.0
    return float(np.mean(inliers))


def flipped_clips(tracks, reference: int, fps: list[float], settings: SyncSettings) -> list[int]:
    """The clips to unflip (see the module docstring). Where most of the other clips look flipped
    against the reference, the reference is the flipped one: it and the clips that looked right
    are returned instead."""
    looks = []
    for j, t in enumerate(tracks):
        if j == reference:
            continue
        pair_fps = (fps[reference], fps[j])
        as_is = epipolar_fit(tracks[reference], t, pair_fps, settings)
        trial = epipolar_fit(tracks[reference], unflip(t), pair_fps, settings)
        if np.isfinite(as_is) and np.isfinite(trial) and trial > as_is + MIN_GAIN:
            looks.append(j)
    others = len(tracks) - 1
    if others >= 2 and len(looks) > others / 2:
        return [j for j in range(len(tracks)) if j not in looks]
    return looks
