"""core.export: the engine's answer written as a CaptureResult, Z up, its ground where the planted
soles stand, every camera still seeing what it saw."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from core.cameras import Camera
from core.result import Motion

FPS = 30.0


def _stand_lift_stand(body, n: int = 90) -> Motion:
    """Z up, soles on z = 0: standing, the left knee raised over frames 30-60, standing again."""
    pose = np.zeros((n, 24, 3))
    pose[:, 0] = [np.pi / 2, 0.0, 0.0]  # the model's Y up turned to Z up
    lift = np.clip(np.minimum(np.arange(n) - 30, 60 - np.arange(n)) / 10, 0, 1)
    pose[:, 1, 0] = -np.deg2rad(70) * lift
    pose[:, 4, 0] = np.deg2rad(80) * lift
    betas = np.zeros(10)
    transl = np.zeros((n, 3))
    transl[:, 0] = np.linspace(0.0, 0.3, n)  # drifting a little, as a fitted root does
    with torch.no_grad():
        low = body(torch.as_tensor(pose[:1], dtype=torch.float32), torch.as_tensor(betas, dtype=torch.float32),
                   vertices=True).vertices[0, :, 2].min().item()
    transl[:, 2] = -low
    return Motion(pose.astype(np.float32), betas.astype(np.float32), transl.astype(np.float32), FPS)


def _forward(body, pose, betas, transl, vertices=False):
    with torch.no_grad():
        return body(*(torch.as_tensor(np.asarray(a), dtype=torch.float32) for a in (pose, betas, transl)),
                    vertices=vertices)


def test_the_ground_is_where_the_planted_soles_stand_and_the_camera_sees_the_same(body):
    """The engine's world is its reference camera's (Y down, Z ahead). Exported, the planted soles
    stand on z = 0 (median within 1 mm; the ankle keypoint's fixed height above the floor,
    core.export.ANKLE_HEIGHT, left them 15 mm under it for this body), the planted ankles as high
    as the truth's (median within 2 mm; one foot 6 mm higher than the other: across feet that stay
    in place, core.ground draws the ground's tilt towards the body's lean) and the exported camera projects the exported clip's keypoints where
    the engine's camera projected its own (within 0.01 px)."""
    from core.export import to_capture_result

    truth = _stand_lift_stand(body)
    n = truth.frames
    # the Z-up world seen from a camera 4 m away, looking slightly down
    q = Rotation.from_euler("x", 100, degrees=True).as_matrix()  # Z up -> Y down, Z ahead
    off = np.array([0.1, 0.2, 4.0])
    j0 = _forward(body, np.zeros((1, 24, 3)), truth.betas, np.zeros((1, 3))).joints[0, 0].numpy()
    pose = truth.pose.astype(np.float64).copy()
    pose[:, 0] = (Rotation.from_matrix(q) * Rotation.from_rotvec(pose[:, 0])).as_rotvec()
    transl = (j0 + truth.transl) @ q.T + off - j0
    kp = _forward(body, pose, truth.betas, transl).keypoints.numpy().astype(np.float64)
    cam = Camera(np.eye(3), np.zeros(3), 1000.0, np.array([960.0, 540.0]))
    state = SimpleNamespace(keypoints=[kp], cameras=[cam], pose=[pose], transl=[transl], betas=[truth.betas],
                            shared_pose=None, shared_transl=None, reproj_px=[np.full(n, 2.0)])
    corr = SimpleNamespace(reference=0, ref_time=[np.arange(n, dtype=float)], clip_time=[np.arange(n, dtype=float)],
                           confidence=np.ones(1))
    out = SimpleNamespace(state=state, corr=corr, warnings=[], rounds=1, flipped=())
    tracks = [SimpleNamespace(fps=FPS, frames=n, size=(1920, 1080))]
    result = to_capture_result(out, tracks, body, ["clip.mp4"])

    m = result.motion
    planted = result.contacts
    assert planted[:25].all() and planted[65:].all() and not planted[40:50, 0].any()
    got = _forward(body, m.pose, m.betas, m.transl, vertices=True)
    soles = got.vertices[..., 2].amin(1).numpy()[planted.any(1)]
    assert abs(np.median(soles)) < 0.001, np.median(soles)
    true_kp = _forward(body, truth.pose, truth.betas, truth.transl).keypoints.numpy()
    rise = got.keypoints.numpy()[:, [15, 16], 2] - true_kp[:, [15, 16], 2]
    assert abs(np.median(rise[planted])) < 0.002, np.median(rise[planted])

    clip = result.clips[0]
    seen = _forward(body, clip.motion.pose, clip.motion.betas, clip.motion.transl).keypoints.numpy()
    cam_pts = seen.astype(np.float64) @ clip.R.T + clip.t
    uv = cam_pts[..., :2] / cam_pts[..., 2:] * clip.K[0, 0] + clip.K[:2, 2]
    np.testing.assert_allclose(uv, cam.pixels(kp)[0], atol=0.01)


@pytest.fixture(scope="module")
def body():
    from core.body import BodyModel

    return BodyModel(device="cpu")
