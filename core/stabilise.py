"""Camera rotation compensation: a clip whose camera pans or tilts about a fixed centre is turned
into one seen by a still camera (its first frame's), by warping the keypoints with the homography
that maps each frame onto the first.

The homographies come from the background: corners found away from the performer (their box,
enlarged, is masked out) are followed frame to frame by pyramidal Lucas-Kanade optical flow, each
step's homography fitted with RANSAC and chained. A rotating camera's frames are related exactly by
a homography H = K R K^-1, whatever the scene's depth; a camera that also travels is not handled.
OpenCV does the per-frame work (decode, corners, flow); no per-frame torch work here."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .tracks import Tracks2D

STILL_PX = 1.5  # a clip whose image corners never move more than this (full resolution) is still
MIN_INLIERS = 12


def _person_mask(shape, box, scale: float):
    mask = np.full(shape, 255, np.uint8)
    if box is not None and np.all(np.isfinite(box)):
        x0, y0, x1, y1 = box * scale
        w, h = x1 - x0, y1 - y0
        x0, x1 = int(max(0, x0 - 0.25 * w)), int(min(shape[1], x1 + 0.25 * w))
        y0, y1 = int(max(0, y0 - 0.15 * h)), int(min(shape[0], y1 + 0.15 * h))
        mask[y0:y1, x0:x1] = 0
    return mask


def _prepared(frame, box, scale: float):
    """A frame as the tracker sees it: grey, scaled by ``scale``, and its background mask."""
    import cv2

    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return gray, _person_mask(gray.shape, box, scale)


def _full_resolution(step: np.ndarray, scale: float) -> np.ndarray:
    """A homography between scaled frames, between the full-resolution ones."""
    s = np.diag([scale, scale, 1.0])
    return np.linalg.inv(s) @ step @ s


def frame_homographies(path: str | Path, boxes: np.ndarray | None = None, max_side: int = 640,
                       progress=None) -> tuple[np.ndarray, dict]:
    """(N,3,3) homographies mapping each frame's pixels onto frame 0's, and figures (frames whose
    step fell back to the identity, inliers). ``boxes`` (N,4) the performer's boxes (masked out)."""
    import cv2

    from .errors import UserError

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise UserError(f"{path}: cannot open the clip to follow its camera")
    hs, prev, prev_mask, weak, inliers = [np.eye(3)], None, None, 0, []
    scale = 1.0
    k = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if k == 0:
                scale = min(1.0, max_side / max(frame.shape[:2]))
            gray, mask = _prepared(frame, boxes[k] if boxes is not None and k < len(boxes) else None, scale)
            if prev is not None:
                step, n_in = _step(prev, gray, prev_mask, mask)
                if step is None:
                    weak += 1
                    step = np.eye(3)
                inliers.append(n_in)
                hs.append(hs[-1] @ _full_resolution(step, scale))
            prev, prev_mask = gray, mask
            k += 1
            if progress is not None:
                progress(k)
    finally:
        cap.release()
    h = np.array(hs)
    return h / h[:, 2:3, 2:3], {"frames": k, "weak_steps": weak,
                                "median_inliers": float(np.median(inliers)) if inliers else 0.0}


def looks_still(path: str | Path, boxes: np.ndarray | None = None, samples: int = 6, max_side: int = 640) -> bool:
    """A quick test before :func:`frame_homographies`: the first frame's background matched
    directly to ``samples`` frames spread over the clip; still when none moved the image corners
    more than STILL_PX (a moving camera fails to match or moves them)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if n < 2:
            return True
        want = sorted(set(np.linspace(0, n - 1, samples + 1).astype(int)))
        grays, k = {}, 0
        while k <= want[-1]:
            ok, frame = cap.read()
            if not ok:
                break
            if k in want:
                grays[k] = frame
            k += 1
    finally:
        cap.release()
    if 0 not in grays:
        return True
    scale = min(1.0, max_side / max(grays[0].shape[:2]))

    def prep(k):
        return _prepared(grays[k], boxes[k] if boxes is not None and k < len(boxes) else None, scale)

    g0, m0 = prep(0)
    h, w = grays[0].shape[:2]
    for k in want[1:]:
        if k not in grays:
            return False
        gk, mk = prep(k)
        step, _ = _step(g0, gk, m0, mk)
        if step is None:
            return False
        if corner_travel(_full_resolution(step, scale)[None], (w, h)) > STILL_PX:
            return False
    return True


def _step(prev, cur, prev_mask, cur_mask):
    """Homography mapping ``cur``'s pixels onto ``prev``'s (None when too few background tracks)."""
    import cv2

    p0 = cv2.goodFeaturesToTrack(prev, maxCorners=500, qualityLevel=0.01, minDistance=7, mask=prev_mask)
    if p0 is None or len(p0) < MIN_INLIERS:
        return None, 0
    p1, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, None, winSize=(21, 21), maxLevel=3)
    back, status_b, _ = cv2.calcOpticalFlowPyrLK(cur, prev, p1, None, winSize=(21, 21), maxLevel=3)
    good = (status[:, 0] == 1) & (status_b[:, 0] == 1) & (np.linalg.norm(back - p0, axis=2)[:, 0] < 0.5)
    xy = p1[:, 0]
    inside = (xy[:, 0] >= 0) & (xy[:, 1] >= 0) & (xy[:, 0] < cur.shape[1]) & (xy[:, 1] < cur.shape[0])
    good &= inside
    good[inside] &= cur_mask[xy[inside, 1].astype(int), xy[inside, 0].astype(int)] > 0
    if good.sum() < MIN_INLIERS:
        return None, int(good.sum())
    h, keep = cv2.findHomography(p1[good], p0[good], cv2.RANSAC, 1.0)
    if h is None or keep.sum() < MIN_INLIERS:
        return None, int(0 if keep is None else keep.sum())
    return h, int(keep.sum())


def corner_travel(h: np.ndarray, size: tuple[int, int]) -> float:
    """How far (px) the image corners of any frame land from where they are in frame 0."""
    w, hh = size
    c = np.array([[0, 0, 1], [w, 0, 1], [0, hh, 1], [w, hh, 1]], float)
    m = np.einsum("nij,cj->nci", h, c)
    return float(np.max(np.linalg.norm(m[..., :2] / m[..., 2:3] - c[None, :, :2], axis=-1)))


def focal_from_homographies(h: np.ndarray, centre) -> float:
    """The focal length (px) under which the homographies of a camera turning about its centre
    are rotations: H = K R K^-1, so K^-1 H K must be orthogonal up to scale. A search over 400
    focal lengths from 100 to 20,000 px (then refined on a finer grid); NaN when the camera hardly
    turns (then every focal length fits)."""
    def cost(fs):
        k = np.zeros((len(fs), 3, 3))
        k[:, 0, 0] = k[:, 1, 1] = fs
        k[:, :2, 2] = centre
        k[:, 2, 2] = 1.0
        m = np.einsum("fij,njk,fkl->fnil", np.linalg.inv(k), h, k)
        m = m / np.cbrt(np.linalg.det(m))[..., None, None]
        return np.sum((m @ np.swapaxes(m, -1, -2) - np.eye(3)) ** 2, axis=(1, 2, 3))

    if corner_travel(h, (2 * centre[0], 2 * centre[1])) < 10 * STILL_PX:
        return float("nan")
    fs = np.exp(np.linspace(np.log(100), np.log(20000), 400))
    best = fs[int(np.argmin(cost(fs)))]
    fine = best * np.exp(np.linspace(-0.02, 0.02, 81))
    return float(fine[int(np.argmin(cost(fine)))])


def known_focals(homographies, tracks) -> list:
    """Per clip the focal length its homographies imply (:func:`focal_from_homographies`, about the
    image's centre), None for a still camera (its homographies None)."""
    return [None if h is None else focal_from_homographies(h, np.array(t.size, float) / 2)
            for h, t in zip(homographies, tracks)]


def warp_points(h: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """(N,3,3) homographies applied to (N,K,2) points (NaN stays NaN)."""
    p = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], -1)
    q = np.einsum("nij,nkj->nki", h, p)
    return q[..., :2] / q[..., 2:3]


def stabilise(tracks: Tracks2D, h: np.ndarray) -> Tracks2D:
    """``tracks`` as seen by the still camera of frame 0 (keypoints and boxes warped by ``h``)."""
    n = tracks.frames
    if len(h) < n:
        h = np.concatenate([h, np.repeat(h[-1:], n - len(h), 0)])
    kp = warp_points(h[:n], tracks.keypoints.astype(np.float64)).astype(tracks.keypoints.dtype)
    corners = tracks.bbox.reshape(n, 2, 2).astype(np.float64)
    box = warp_points(h[:n], corners).reshape(n, 4).astype(tracks.bbox.dtype)
    return replace(tracks, keypoints=kp, bbox=box)


def follow_cameras(paths, tracks, progress=None) -> tuple[list, list]:
    """Clips whose camera pans or tilts: their keypoints warped to the first frame's view
    (:func:`stabilise`). Returns the tracks and per clip its homographies (None: a still camera).
    ``progress(stage, done, total, clip=..., message=...)`` is told of each clip's frames."""
    say = progress or (lambda *a, **k: None)
    out, hs = [], []
    for p, tr in zip(paths, tracks):
        p = Path(p)
        h = None
        if looks_still(p, tr.bbox):
            say("stabilise", tr.frames, tr.frames, clip=p.name, message="still camera")
        else:
            h, _ = frame_homographies(p, tr.bbox, progress=lambda k, n=tr.frames, name=p.name: say(
                "stabilise", k, n, clip=name))
            if corner_travel(h, tr.size) <= STILL_PX:
                h = None
        out.append(tr if h is None else stabilise(tr, h))
        hs.append(h)
    return out, hs
