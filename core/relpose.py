"""Cameras from two-view geometry: once clips are synchronised, the keypoints of every matched
frame are one rigid "scene" seen by all the (static) cameras, so each clip's pose relative to the
reference follows from the essential matrix of their corresponding keypoints, with the focal
lengths guessed (OpenCV's USAC: RANSAC with local optimisation; plain RANSAC was 3-4 degrees out
on a test scene with exact focal lengths). It is a second opinion beside the registration of monocular bodies
(``core.cameras``), which inherits the monocular fits' depth errors (a camera 25 degrees out on
the protocol); the camera bundle adjustment starts from both and keeps the better
(``core.camera_ba``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .cameras import Camera, sample

KEYPOINTS = np.arange(5, 17)  # shoulders .. ankles


def matched_keypoints(tracks, corr, i: int, j: int, min_conf: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions (P,2), (P,2) of the keypoints clips i and j both see confidently at the
    reference frames the synchronisation maps into both."""
    ti = np.asarray(corr.clip_time[i], float)
    tj = np.asarray(corr.clip_time[j], float)
    ok = np.isfinite(ti) & np.isfinite(tj)
    out = []
    for c, t in ((i, ti[ok]), (j, tj[ok])):
        kp = sample(tracks[c].keypoints.astype(np.float64), t)[:, KEYPOINTS].reshape(-1, 2)
        cf = sample(tracks[c].confidence.astype(np.float64), t)[:, KEYPOINTS].reshape(-1)
        out.append((kp, cf))
    good = (out[0][1] > min_conf) & (out[1][1] > min_conf)
    return out[0][0][good], out[1][0][good]


def find_essential(na: np.ndarray, nb: np.ndarray, threshold: float):
    """OpenCV's essential matrix of normalised points (P,2), (P,2) and its inlier mask (either None
    where it fails); ``threshold`` in normalised units."""
    import cv2

    cv2.setRNGSeed(0)  # the sampler's draws: the same answer every run
    return cv2.findEssentialMat(na, nb, np.eye(3), method=cv2.USAC_DEFAULT, prob=0.999, threshold=threshold)


def essential_cameras(tracks, corr, cameras: list[Camera], threshold_px: float = 8.0,
                      min_pairs: int = 50) -> list[Camera | None]:
    """Per clip, the camera whose rotation and direction from the reference come from the
    essential matrix (focal lengths as in ``cameras``). Two views have no scale: each clip's
    distance is set so that the performer, triangulated from it and the reference alone, stands
    as far from the reference camera as ``cameras`` place it (the same depth for every clip, so
    the cameras agree with each other; taking each clip's distance from ``cameras`` instead put
    a spinning kick's structure behind a camera). The reference's camera is returned as it is;
    None where a clip shares too few keypoints with the reference or the estimate fails."""
    import cv2

    ref = corr.reference
    depth = _performer_depth(tracks, corr, cameras)
    out: list[Camera | None] = []
    for j, cam in enumerate(cameras):
        if j == ref:
            out.append(cam)
            continue
        a, b = matched_keypoints(tracks, corr, ref, j)
        if len(a) < min_pairs:
            out.append(None)
            continue
        na = (a - cameras[ref].centre) / cameras[ref].focal
        nb = (b - cam.centre) / cam.focal
        e, inliers = find_essential(na, nb, threshold_px / cam.focal)
        if e is None or e.shape != (3, 3) or inliers is None or inliers.sum() < min_pairs:
            out.append(None)
            continue
        _, rot, t, front = cv2.recoverPose(e, na, nb, np.eye(3), mask=inliers.copy())
        use = front.ravel() > 0
        if use.sum() < min_pairs:
            out.append(None)
            continue
        x = cv2.triangulatePoints(np.hstack([np.eye(3), np.zeros((3, 1))]), np.hstack([rot, t]),
                                  na[use].T, nb[use].T)
        z = x[2] / x[3]
        unit_depth = float(np.median(z[np.isfinite(z) & (z > 0)])) if (z > 0).any() else np.nan
        if not np.isfinite(unit_depth) or unit_depth <= 0:
            out.append(None)
            continue
        out.append(replace(cam, R=rot, t=t.ravel() * depth / unit_depth))
    return out


def _performer_depth(tracks, corr, cameras: list[Camera]) -> float:
    """Median depth, in the reference camera, of the keypoints triangulated through ``cameras``
    (1 when there are none in front)."""
    from .triangulate import triangulate

    pts, seen = triangulate(tracks, corr, cameras)
    c = cameras[corr.reference]
    z = (pts[seen] @ c.R.T + c.t)[:, 2]
    z = z[z > 0]
    return float(np.median(z)) if len(z) else 1.0
