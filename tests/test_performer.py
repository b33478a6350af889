"""Tracking, performer choice and gap filling on hand-made detections (no network needed)."""

import numpy as np

from core.performer import Detections, fill_gaps, interpolate_boxes, iou, score_tracks, track


def _det(frame, boxes, conf=None):
    boxes = np.asarray(boxes, float)
    kp = np.zeros((len(boxes), 17, 3))
    kp[..., 0] = boxes[:, None, 0] + np.linspace(0, 1, 17) * (boxes[:, None, 2] - boxes[:, None, 0])
    kp[..., 1] = boxes[:, None, 1] + np.linspace(0, 1, 17) * (boxes[:, None, 3] - boxes[:, None, 1])
    return Detections(frame, boxes, np.full(len(boxes), 0.9) if conf is None else np.asarray(conf), kp)


def test_iou():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(iou(a, b), [[50 / 150, 0.0]])


def test_tracks_follow_people_through_order_changes_and_gaps():
    dets = []
    for f in range(20):
        a = [100 + 2 * f, 100, 160 + 2 * f, 300]  # walks right
        b = [400 - 2 * f, 120, 450 - 2 * f, 280]  # walks left
        people = [b, a] if f % 2 else [a, b]  # detection order changes every frame
        if 8 <= f <= 10:
            people = [b]  # a is missed for three frames
        dets.append(_det(f, people))
    tracks = track(dets, max_gap=5)
    assert len(tracks) == 2
    for t in tracks:
        xs = [dets[f].boxes[i][0] for f, i in sorted(t.items())]
        assert np.all(np.diff(xs) > 0) or np.all(np.diff(xs) < 0)  # each track stays one person
    assert sorted(len(t) for t in tracks) == [17, 20]


def test_performer_beats_a_briefly_larger_bystander():
    size = (640, 360)
    dets = []
    for f in range(40):
        x = 250 + 3 * np.sin(f / 3)
        performer = [x, 100, x + 60, 260]  # central, present throughout
        people = [performer]
        if 10 <= f < 30:
            people.append([520, 20, 640, 350])  # at the edge, larger, present half the time
        dets.append(_det(f, people))
    tracks = track(dets, max_gap=5)
    scores = score_tracks(dets, tracks, size, fps=30)
    best = tracks[int(np.argmax(scores))]
    assert len(best) == 40 and all(dets[f].boxes[i][0] < 400 for f, i in best.items())
    big = [t for t in tracks if len(t) == 20][0]
    assert all(dets[f].boxes[i][2] - dets[f].boxes[i][0] > 100 for f, i in big.items())  # it was the larger one


def test_interpolate_boxes_and_fill_gaps():
    frames = np.array([0, 2, 10])
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 0, 60, 10]], float)
    out = interpolate_boxes(frames, boxes, 14, max_gap=3)
    np.testing.assert_allclose(out[1], [1, 0, 11, 10])
    assert np.isnan(out[3:10]).all()  # a gap of 8 frames is too long
    np.testing.assert_allclose(out[11:14], np.repeat(boxes[2:], 3, 0))  # held past the end
    kp = np.zeros((12, 17, 2))
    conf = np.zeros((12, 17))
    kp[:, :, 0] = np.arange(12)[:, None]
    conf[[0, 3, 11]] = 0.9  # gaps of 2 frames (filled) and 7 frames (left missing)
    k2, c2 = fill_gaps(kp * (conf[..., None] > 0), conf, max_gap=3, low=0.05)
    np.testing.assert_allclose(k2[1:3, 0, 0], [1, 2])
    assert np.all(c2[1:3] == 0.05) and np.all(c2[4:11] == 0)
