"""SMPL bundle adjustment with low-rank coupling (the paper's eq. 6/8), one batched torch problem.

Unknowns per clip j: pose theta_ij (world), translation gamma_ij (world), shape beta_j; cameras
(rotation about the scene's centre, translation, log focal; the reference camera's pose is the
world frame and stays fixed) only with ``optimise_cameras`` (off by default: ``core.camera_ba`` has
fitted them beforehand, and letting the bodies and the cameras move together from the first, rough
start drifted the focal lengths; the engine turns it on in the rounds after the first, see
core.engine.CaptureSettings); with ``fit_times``, each non-reference clip's times against the
reference (a piecewise linear correction of the synchroniser's fractional times: the interpolation
of the shared motion is differentiable in time), returned as ``BAState.ref_time``.
Objective, summed over all frames of all clips:

* Geman-McClure reprojection of the COCO keypoints, weighted by confidence, residuals in units of
  the person's height in the image;
* temporal smoothness of pose and translation (and, with ``w_accel_pose``, of the shared motion's
  joint accelerations); hinge-joint limits; small pose and shape priors;
* where the keypoints sit on the body (``fit_offsets``): one offset per COCO keypoint for all clips,
  in the frame of the bone that ends there, left and right mirror images, a small prior. A
  detector's keypoints (or a motion capture's joints) are not where the body model's regressor
  puts them: on the protocol's captures the body fitted to the mocap joints in 3D still misses
  them by 20-31 mm PA-MPJPE (hips 4-7 cm too far apart, shoulders 4-6 cm too close), and no
  shape parameter closes that. Fitted, PA-MPJPE on cmu_01_jumps seed 0 fell 27.2 -> 21.5 mm;
* low-rank coupling: at every reference frame the clips' body poses (root orientation removed),
  sampled at the synchroniser's fractional times, form an M x 69 matrix kept close to an auxiliary
  Z of rank <= s; the root trajectories (M x 3N_ref) likewise to Y of rank <= s (weight
  ``w_rank_transl``, off by default: see its comment). Z and Y are updated in closed form
  (truncated SVD) every ``z_every`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from .body import COCO_NAMES
from .cameras import Camera, time_span
from .geometry import principal_rotvec, unwrap_rotvec
from .fitting import acceleration, fit_confidence, geman_mcclure, joint_limit_penalty, project, smoothness
from .init3d import _person_height
from .kinematics import rodrigues


@dataclass(frozen=True)
class BASettings:
    iterations: int = 400
    lr: float = 0.02
    rank: int = 1
    w_rank: float = 1.0
    # the root trajectories' low-rank term: off. In one world every clip's trajectory is the same
    # (the shared motion already ties them); rank 1 with free scales lets them scale about the
    # world's origin, which depends on where the origin is (the reference camera) and cost 17 mm
    # of PA-MPJPE on the demo clips' 2D with true cameras (61.6 -> 44.0 mm without it)
    w_rank_transl: float = 0.0
    z_every: int = 20
    sigma: float = 0.05
    sigma_start: float = 0.4  # annealed to ``sigma`` over the first half: far-off bodies still get pulled in
    w_pose: float = 2e-3
    w_limits: float = 1.0
    w_smooth_pose: float = 0.05
    w_smooth_transl: float = 50.0
    # squared second differences of the shared motion's joint rotations (the root's left out: a spin
    # turns it fast, and its axis-angle vector does not move at a steady rate); 0: off. The 2D's
    # noise shakes the joints from frame to frame; the first differences above, made strong enough to
    # still that, slow fast motions down as well. Figures at core.engine.ACCEL
    w_accel_pose: float = 0.0
    w_betas: float = 1.0
    w_residual: float = 100.0  # per-clip departures from the shared motion
    shared_first: float = 0.7  # fraction of the iterations run with the residuals frozen at zero: the
    # shared motion settles before each clip may depart from it
    optimise_cameras: bool = False  # see the module docstring
    # each clip's times against the reference are refined with the motion: a correction, in frames,
    # linear between ``time_knots`` knots evenly spaced over the clip's span (2: an offset and a tilt),
    # learning at ``lr_times`` frames per step. Re-timing alone (core.retime) meets a motion already
    # fitted to the old times, so each round moves the times only part of the way; moved together with
    # the motion, a stretch of a clip can also leave a wrong time that the motion was bent to. The
    # engine fits them in the rounds after the first, with 9 knots (core.engine.TIME_KNOTS, with figures)
    fit_times: bool = True
    time_knots: int = 2
    lr_times: float = 0.02
    # the COCO keypoints' offsets from where the body puts them (core.body.BodyModel.forward), one set
    # for all clips, left and right mirror images; prior w_offsets * |offset|^2 (metres) summed
    fit_offsets: bool = True
    # not fitting them, still apply the start state's offsets (held as they are) rather than none
    hold_offsets: bool = False
    w_offsets: float = 10.0
    # the pull of the shared motion's joint rotations (the root's left out) towards ``targets``
    # (bundle_adjust; core.exemplars), squared radians. On the demo's real detections (bench e2e),
    # one more round from the engine's answer: PA-MPJPE 48.3 mm without, 43.8 / 43.8 / 42.9 at
    # 0.1 / 1 / 10; at 10 in the engine's rounds, 48.4 -> 43.6
    w_targets: float = 10.0
    lr_offsets: float = 0.002
    min_conf: float = 0.1
    device: str = "cpu"


@dataclass(frozen=True, eq=False)
class BAState:
    """Per clip: pose (N_j,24,3) and transl (N_j,3) in the world (= reference camera frame), betas
    (10,), camera; keypoints (N_j,17,3), joints (N_j,24,3) in the world; reproj_px (N_j,)."""

    pose: tuple
    transl: tuple
    betas: tuple
    cameras: tuple
    keypoints: tuple = ()
    joints: tuple = ()
    reproj_px: tuple = ()
    shared_pose: np.ndarray | None = None  # (N_ref,24,3) the shared motion on the reference timeline
    shared_transl: np.ndarray | None = None  # (N_ref,3)
    ref_time: tuple | None = None  # per clip (N_j,) the reference times the adjustment settled on
    kp_offsets: np.ndarray | None = None  # (17,3) the keypoints' offsets the adjustment fitted


def low_rank(x: torch.Tensor, mask: torch.Tensor, rank: int, fill_iters: int = 3) -> torch.Tensor:
    """Best rank-``rank`` approximation of batched matrices x (B,M,F) where mask (B,M,F) marks the
    known entries (missing ones are filled from the approximation, a few rounds)."""
    filled = torch.where(mask, x, torch.zeros_like(x))
    approx = filled
    for _ in range(fill_iters):
        u, s, vh = torch.linalg.svd(filled, full_matrices=False)
        approx = (u[..., :rank] * s[..., None, :rank]) @ vh[..., :rank, :]
        if bool(mask.all()):
            break
        filled = torch.where(mask, x, approx)
    return approx


def initial_state(mono, cameras: list[Camera], sims: list[tuple], reference: int, body) -> BAState:
    """Monocular bodies moved into the world by each clip's similarity (its shape set to the
    reference's, so that all clips start with one body size)."""
    from scipy.spatial.transform import Rotation

    ref_betas = mono[reference].betas
    with torch.no_grad():
        j0 = body(torch.zeros(1, 24, 3), torch.as_tensor(ref_betas)).joints[0, 0].numpy().astype(np.float64)
    poses, transls, betas = [], [], []
    for m, (s, rot, tr) in zip(mono, sims):
        pose = m.pose.astype(np.float64).copy()
        pose[:, 0] = (Rotation.from_matrix(rot) * Rotation.from_rotvec(pose[:, 0])).as_rotvec()
        pelvis_world = s * m.joints[:, 0].astype(np.float64) @ rot.T + tr
        poses.append(pose.astype(np.float32))
        transls.append((pelvis_world - j0).astype(np.float32))
        betas.append(ref_betas.copy())
    return BAState(tuple(poses), tuple(transls), tuple(betas), tuple(cameras))


def rotate_world(state: BAState, w: np.ndarray, body) -> BAState:
    """``state`` in a world turned by ``w`` (X' = w X): cameras, root orientations, translations."""
    from scipy.spatial.transform import Rotation

    poses, transls = [], []
    for pose, transl, betas in zip(state.pose, state.transl, state.betas):
        with torch.no_grad():
            j0 = body(torch.zeros(1, 24, 3), torch.as_tensor(betas)).joints[0, 0].numpy().astype(np.float64)
        p = pose.astype(np.float64).copy()
        p[:, 0] = (Rotation.from_matrix(w) * Rotation.from_rotvec(p[:, 0])).as_rotvec()
        poses.append(p.astype(np.float32))
        transls.append(((j0 + transl.astype(np.float64)) @ w.T - j0).astype(np.float32))
    cams = tuple(replace(c, R=c.R @ w.T) for c in state.cameras)
    return replace(state, pose=tuple(poses), transl=tuple(transls), cameras=cams, keypoints=(), joints=())


def body_frame(pose: np.ndarray) -> np.ndarray:
    """The turn ``w`` for :func:`rotate_world` that makes the mean root orientation of ``pose``
    (N,24,3) the identity.

    Bundle adjustment runs in that world rather than in the reference camera's frame, where an
    upright body's root rotation is close to half a turn (or anywhere in a Z-up world where the
    performer faces the wrong way): near half a turn the axis-angle parameterisation wraps (a small
    turn between frames becomes a large jump of the vector, which the smoothness term fights) and
    the fit lands far worse (PA-MPJPE 98 mm against 61 mm with the same true cameras and
    synchronisation on the demo clips' 2D)."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(pose[:, 0].astype(np.float64)).mean().inv().as_matrix()


def interpolable(pose: np.ndarray) -> np.ndarray:
    """Poses (N,24,3) as the adjustment starts from them: the root's rotation unwrapped along the
    sequence (:func:`core.geometry.unwrap_rotvec`), every other joint's at its principal angle
    (:func:`core.geometry.principal_rotvec`).

    No joint of a body turns through half a turn, so unwrapping the joints as well only gathered
    whole turns from noise: where a joint's axis swung round between frames (a wrist's twist,
    which barely moves its keypoint) each swing past pi added one, and the first adjustment left
    the right hip and the wrists of cmu_01_jumps seed 1 at 6-10 rad in half the frames. The pose
    prior, the smoothness and the acceleration terms act on the vectors, not on the rotations:
    they pulled those joints through whole turns, and frames the 2D fixed poorly came out folded
    (PA-MPJPE 100-220 mm at single frames four clips see)."""
    pose = np.asarray(pose, np.float64)
    return np.concatenate([unwrap_rotvec(pose[:, :1]), principal_rotvec(pose[:, 1:])], axis=1)


def knot_weights(rel: np.ndarray, knots: int) -> np.ndarray:
    """(N, knots) weights of ``knots`` evenly spaced over [-1, 1] for positions ``rel`` (N,)
    (clamped there): each position's two neighbouring knots share it linearly, so that the rows sum
    to one (one knot: a single offset)."""
    grid = np.linspace(-1.0, 1.0, knots)
    r = np.clip(np.asarray(rel, float), -1.0, 1.0)[:, None]
    return np.clip(1.0 - np.abs(r - grid[None]) * (knots - 1) / 2.0, 0.0, None)


def _interp_rows(x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """x (N_ref,...) at fractional rows ``times`` (B,) (clamped), linear interpolation."""
    t = times.clamp(0, x.shape[0] - 1)
    i0 = t.floor().long()
    i1 = (i0 + 1).clamp(max=x.shape[0] - 1)
    w = (t - i0).reshape((-1,) + (1,) * (x.dim() - 1))
    return (1 - w) * x.index_select(0, i0) + w * x.index_select(0, i1)  # index_select: a cheap backward


def bundle_adjust(tracks, corr, state: BAState, body, settings: BASettings = BASettings(), reference: int = 0,
                  fixed_cameras: bool = False, single_model: bool = False, progress=None,
                  targets: np.ndarray | None = None) -> BAState:
    """Refine ``state`` against the 2D ``tracks`` under the correspondence ``corr``.

    Parameterisation: a shared motion on the reference timeline plus per-clip residuals (frames of
    a clip outside the overlap have only their own pose). Every camera's reprojection thus reaches
    the shared motion directly (multi-view), the residuals carry each clip's own performance; the
    low-rank term of the module docstring acts on the composed per-clip poses. ``single_model``
    freezes the residuals at zero (one motion for all clips: the ablation). ``targets`` (N_ref,24,3)
    (NaN rows: none) are joint rotations the shared motion starts from and is pulled towards
    (``settings.w_targets``; core.exemplars gives them for the frames one clip alone shows).

    Two phases: first (``shared_first`` of the steps) the shared motion alone, with one shape, its
    bodies evaluated once per reference frame and their keypoints interpolated to the clips'
    fractional times (3.3x fewer bodies per step on the protocol's 4 clips); then every clip frame's
    own body (shared motion + residual, its clip's shape), with the low-rank coupling. The root's
    rotations are unwrapped first (:func:`interpolable`): interpolating axis-angle vectors across
    the half-turn wrap gave root orientations off by up to 180 degrees at fractional times (the
    protocol's turning jumps: MPJPE 43.0 -> 36.7 mm, PA-MPJPE 32.3 -> 28.7 mm once fixed).

    ``settings.fit_times``: the clips' times move with the motion (see :class:`BASettings`); the
    returned state's ``ref_time`` holds them (None without it). The low-rank coupling keeps
    sampling the clips at the times it was given."""
    dev = torch.device(settings.device)
    dt = torch.float32
    m = len(tracks)
    sizes = [t.frames for t in tracks]
    offs = np.cumsum([0] + sizes)
    n = int(offs[-1])
    seg_np = np.repeat(np.arange(m), sizes)
    seg = torch.as_tensor(seg_np, device=dev)
    T = lambda a: torch.as_tensor(np.asarray(a), dtype=dt, device=dev)  # noqa: E731

    kp = T(np.concatenate([t.keypoints for t in tracks]))
    conf = T(fit_confidence(np.concatenate([t.confidence for t in tracks]), settings.min_conf))
    height = T(np.concatenate([_person_height(t.keypoints, np.where(t.confidence >= settings.min_conf,
                                                                      t.confidence, 0)) for t in tracks]))
    centre = T(np.stack([c.centre for c in state.cameras]))

    # shared motion on the reference timeline, initialised from the clips' poses (reference first)
    n_ref = len(corr.clip_time[reference])
    ct = np.stack([np.asarray(c, float) for c in corr.clip_time])  # (M, N_ref)
    have = np.isfinite(ct)
    order = [reference] + [j for j in range(m) if j != reference]
    base_pose0 = np.zeros((n_ref, 24, 3))
    base_tr0 = np.zeros((n_ref, 3))
    filled = np.zeros(n_ref, bool)
    from .cameras import sample as sample_np

    poses_in = [interpolable(p) for p in state.pose]
    for j in order:
        rows = np.where(have[j] & ~filled)[0]
        if len(rows):
            base_pose0[rows] = sample_np(poses_in[j], ct[j, rows])
            base_tr0[rows] = sample_np(state.transl[j].astype(np.float64), ct[j, rows])
            filled[rows] = True
    rt_np = np.concatenate([np.asarray(corr.ref_time[j], float) for j in range(m)])
    on_ref = np.isfinite(rt_np)
    rt = T(np.nan_to_num(rt_np))
    on_ref_t = torch.as_tensor(on_ref, device=dev)
    # the clips' times as fitted: rt + the knots' corrections, interpolated linearly at rt's place in
    # its clip's span (frames)
    spans = [time_span(r[np.isfinite(r)]) for r in (np.asarray(corr.ref_time[j], float) for j in range(m))]
    mid, half = np.array(spans).T
    hats = T(knot_weights((np.nan_to_num(rt_np) - mid[seg_np]) / half[seg_np], settings.time_knots))
    t_free = T([1.0 if (settings.fit_times and j != reference) else 0.0 for j in range(m)])
    t_knots = torch.zeros(m, settings.time_knots, dtype=dt, device=dev, requires_grad=True)

    def now_times():
        return rt + t_free[seg] * (hats * t_knots[seg]).sum(1)
    aimed = np.zeros(n_ref, bool) if targets is None else np.isfinite(targets).all((1, 2))
    if aimed.any():
        base_pose0[aimed, 1:] = targets[aimed, 1:]
    aim_rows = torch.as_tensor(np.where(aimed)[0], device=dev)
    aim = T(targets[aimed]) if aimed.any() else None
    base_pose = T(base_pose0).requires_grad_(True)
    base_tr = T(base_tr0).requires_grad_(True)
    with torch.no_grad():
        # every clip starts on the shared motion (its own pose only where it has no reference time):
        # residuals grow where the 2D asks for them, rather than starting from monocular flips
        start_pose = T(np.concatenate(poses_in))
        start_tr = T(np.concatenate(state.transl))
        res_pose0 = torch.where(on_ref_t[:, None, None], torch.zeros_like(start_pose), start_pose)
        res_tr0 = torch.where(on_ref_t[:, None], torch.zeros_like(start_tr), start_tr)
    res_pose = res_pose0.clone().requires_grad_(True)
    res_tr = res_tr0.clone().requires_grad_(True)

    betas = T(np.stack(state.betas)).requires_grad_(True)
    off_free = settings.fit_offsets and m > 1
    start_off = np.zeros((17, 3)) if state.kp_offsets is None else state.kp_offsets
    off_half = T(start_off[_LEFT_OR_MIDDLE]).requires_grad_(off_free)
    mirror = T(_MIRROR)

    keep_off = settings.hold_offsets and not off_free and state.kp_offsets is not None

    def offsets(lone=None):  # (17,3) the right side mirrors the left; (B,17,3) held where ``lone``
        off = off_half[_FROM_HALF] * mirror if off_free or keep_off else None
        return off if off is None or lone is None else torch.where(lone[:, None, None], off.detach(), off)
    cam_rv = T(np.stack([_rotvec(c.R) for c in state.cameras])).requires_grad_(True)
    # each camera's translation is held as where the scene's centre (``pivot``, world) lies in the
    # camera's frame, t' = R pivot + t, and a point X maps to R (X - pivot) + t': a step of the
    # rotation turns the camera about the scene, not about the world's origin. That origin is the
    # reference camera, and where its focal length is too long it stands far back: DeepMimic run, 4
    # views, seed 1, the first view cut to 70%, the reference (clip 1) at 57 m with a focal length
    # 6.8x the truth. Each of Adam's steps then swept the performer across the other images, and one
    # later round took two clips' median reprojection from 7 and 13 px to 727 and 1,036 px; the
    # capture ended at 136 mm PA-MPJPE and 51% sync error, and at 19.9 mm and 1.8% turned about the
    # scene (tests/test_engine.py)
    every = np.concatenate([np.asarray(x, np.float64) for x in state.transl])
    every = every[np.isfinite(every).all(1)]
    pivot_np = every.mean(0) if len(every) else np.zeros(3)
    pivot = T(pivot_np)
    cam_t = T(np.stack([c.R @ pivot_np + c.t for c in state.cameras])).requires_grad_(True)
    log_f = T(np.log([c.focal for c in state.cameras])).requires_grad_(True)
    params = [base_pose, base_tr, res_pose, res_tr, betas]
    if not fixed_cameras and settings.optimise_cameras:
        params += [cam_rv, cam_t, log_f]
    cam_mask = torch.ones(m, 1, device=dev, dtype=torch.bool)
    if not fixed_cameras:
        cam_mask[reference] = False  # the reference camera defines the world: it stays where it is

    def held(x):  # the reference camera's parameters take no step
        return torch.where(cam_mask, x, x.detach())

    rows = np.where(have.sum(0) >= 2)[0]
    coupling = len(rows) > 0 and m >= 2 and settings.w_rank > 0 and not single_model
    if coupling:
        times = [T(np.nan_to_num(ct[j, rows])) for j in range(m)]
        present = torch.as_tensor(have[:, rows].T, device=dev)  # (R, M)
        pm = present[..., None].float()
    size_t = T(sizes)

    # the keypoints' offsets learn from the frames two or more clips show (``lone``: the others, per
    # clip frame; ``lone_ref`` per reference frame). Where one clip alone shows the body its depths
    # are the 2D's guess, and offsets bent to fit them moved every other frame's keypoints: on the
    # demo's true 2D, PA-MPJPE where several clips see the body 9.9 mm without pose targets and 16.0
    # with them (core.exemplars); learning from those frames only, 7.6 and 7.9
    views_ref = have.sum(0)
    lone_ref = torch.as_tensor(views_ref <= 1, device=dev)
    nearest = np.clip(np.round(np.nan_to_num(rt_np, nan=-1.0)).astype(int), 0, n_ref - 1)
    lone = torch.as_tensor(~on_ref | (views_ref[nearest] <= 1), device=dev)

    # the shared phase evaluates the body once per reference frame (with the reference clip's
    # shape) and moves its keypoints to the clips' fractional times: 688 bodies per step instead of
    # 2,298 on the protocol's 4 clips. A clip frame's prior terms are carried by the reference
    # frames it samples (``carried``: the interpolation weights summed per reference frame).
    on_np, off_np = np.where(on_ref)[0], np.where(~on_ref)[0]
    on_idx, off_idx = torch.as_tensor(on_np, device=dev), torch.as_tensor(off_np, device=dev)
    back = torch.as_tensor(np.argsort(np.concatenate([on_np, off_np])), device=dev)  # back to clip order
    i0 = np.floor(np.clip(rt_np[on_ref], 0, n_ref - 1)).astype(int)
    w1 = np.clip(rt_np[on_ref], 0, n_ref - 1) - i0
    carried_np = np.bincount(i0, 1 - w1, n_ref) + np.bincount(np.minimum(i0 + 1, n_ref - 1), w1, n_ref)
    carried = T(carried_np)

    def compose(frozen):
        rp = torch.where(frozen[:, None, None], torch.zeros_like(res_pose), res_pose)
        rtr = torch.where(frozen[:, None], torch.zeros_like(res_tr), res_tr)
        now = now_times()
        pose = torch.where(on_ref_t[:, None, None], _interp_rows(base_pose, now) + rp, rp)
        transl = torch.where(on_ref_t[:, None], _interp_rows(base_tr, now) + rtr, rtr)
        return pose, transl, rp, rtr

    def sampled(pose, transl):  # the clips' poses and translations at the coupled reference frames
        flat = pose[:, 1:].reshape(n, -1)
        sp = torch.stack([_interp_rows(flat[offs[j]:offs[j + 1]], times[j]) for j in range(m)], 1)
        st = torch.stack([_interp_rows(transl[offs[j]:offs[j + 1]], times[j]) for j in range(m)], 1)
        return sp, st

    def priors(pose, weight=None):  # pose prior and joint limits, per body, optionally weighted
        per = settings.w_pose * pose[:, 1:].square().flatten(1).sum(1) + settings.w_limits * joint_limit_penalty(pose)
        return per.sum() if weight is None else (per * weight).sum()

    def objective(sigma, shared_only, z):
        rp = torch.where(on_ref_t[:, None, None], torch.zeros_like(res_pose), res_pose)
        rtr = torch.where(on_ref_t[:, None], torch.zeros_like(res_tr), res_tr)
        if shared_only:
            base = body(base_pose, betas[reference], base_tr, offsets=offsets(lone_ref))
            own = body(rp[off_idx], betas[seg[off_idx]], rtr[off_idx], offsets=offsets(lone[off_idx]))
            keypoints = torch.cat([_interp_rows(base.keypoints, now_times()[on_idx]), own.keypoints]).index_select(0, back)
            loss = priors(base_pose, carried) + priors(rp[off_idx])
        else:
            pose, transl, rp, rtr = compose(torch.zeros_like(on_ref_t))
            keypoints = body(pose, betas[seg], transl, offsets=offsets(lone)).keypoints
            loss = priors(pose)
        rot = rodrigues(held(cam_rv))[seg]
        tr = held(cam_t)[seg]
        cam_pts = torch.einsum("nij,nkj->nki", rot, keypoints - pivot) + tr[:, None]
        uv = project(cam_pts, log_f.exp()[seg], centre[seg])
        rho = geman_mcclure((uv - kp) / height[:, None, None], sigma)
        loss = loss + (conf * rho).sum() / sigma ** 2
        loss = loss + settings.w_smooth_pose * (smoothness(base_pose) + smoothness(rp, seg))
        loss = loss + settings.w_smooth_transl * (smoothness(base_tr) + smoothness(rtr, seg))
        if settings.w_accel_pose:
            loss = loss + settings.w_accel_pose * acceleration(base_pose[:, 1:])
        if not shared_only:
            loss = loss + settings.w_residual * (rp[on_idx].square().sum() + 100 * rtr[on_idx].square().sum())
            loss = loss + settings.w_betas * (betas.square().sum(1) * size_t).sum()
        else:
            loss = loss + settings.w_betas * betas[reference].square().sum() * n
        if off_free:
            loss = loss + settings.w_offsets * offsets().square().sum()
        if aim is not None:
            loss = loss + settings.w_targets * (base_pose[aim_rows, 1:] - aim[:, 1:]).square().sum()
        if z is not None:
            sp, st = sampled(pose, transl)
            loss = loss + settings.w_rank * ((sp - z[0]).square() * pm).sum()
            if settings.w_rank_transl:
                loss = loss + settings.w_rank_transl * 100 * ((st - z[1]).square() * pm).sum()
        return loss

    def auxiliary():  # the low-rank targets, in closed form (truncated SVD)
        with torch.no_grad():
            pose, transl, _, _ = compose(torch.zeros_like(on_ref_t))
            sp, st = sampled(pose, transl)
            z_pose = low_rank(sp, present[..., None].expand_as(sp), settings.rank)
            ytr = st.permute(1, 0, 2).reshape(1, m, -1)  # (1, M, 3R)
            mk_tr = present.T[:, :, None].expand(m, len(rows), 3).reshape(1, m, -1)
            z_tr = low_rank(ytr, mk_tr, settings.rank).reshape(m, len(rows), 3).permute(1, 0, 2)
        return z_pose, z_tr

    # the Geman-McClure scale annealed from sigma_start to sigma over the first half; the residuals
    # frozen for the first ``shared_first`` of the steps (always for the single-model ablation),
    # then free with the low-rank coupling on, its targets refreshed every ``z_every`` steps
    groups = [{"params": params}]
    if settings.fit_times:
        groups.append({"params": [t_knots], "lr": settings.lr_times})
    if off_free:
        groups.append({"params": [off_half], "lr": settings.lr_offsets})
    opt = torch.optim.Adam(groups, lr=settings.lr)
    warm = settings.iterations if single_model else int(settings.shared_first * settings.iterations)
    z = None
    for it in range(settings.iterations):
        shared_only = it < warm
        if it == warm:
            with torch.no_grad():  # every clip starts its own shape from the shared one
                betas[:] = betas[reference]
        if coupling and not shared_only and (z is None or (it - warm) % settings.z_every == 0):
            z = auxiliary()
        a = min(1.0, it / max(1, settings.iterations // 2))
        sigma = settings.sigma_start ** (1 - a) * settings.sigma ** a
        opt.zero_grad(set_to_none=True)
        objective(sigma, shared_only, z).backward()
        opt.step()
        if progress and (it % 10 == 0 or it == settings.iterations - 1):
            progress(it + 1, settings.iterations)
    if single_model:
        with torch.no_grad():
            betas[:] = betas[reference]
    with torch.no_grad():
        pose, transl, _, _ = compose(on_ref_t if single_model else torch.zeros_like(on_ref_t))
        off = offsets()
        cam_t_world = cam_t - torch.einsum("mij,j->mi", rodrigues(cam_rv), pivot)
    out = _state(pose, transl, betas, cam_rv, cam_t_world, log_f, state, body, seg, offs, kp, conf, off)
    fitted = None
    if settings.fit_times:
        with torch.no_grad():
            now = np.where(on_ref, now_times().clamp(0, n_ref - 1).cpu().numpy().astype(np.float64), np.nan)
        fitted = tuple(np.asarray(corr.ref_time[j], float) if j == reference else now[offs[j]:offs[j + 1]]
                       for j in range(m))
    return replace(out, shared_pose=base_pose.detach().cpu().numpy(), shared_transl=base_tr.detach().cpu().numpy(),
                   ref_time=fitted, kp_offsets=None if off is None else off.cpu().numpy().astype(np.float64))


# the keypoint offsets' parameters: the midline's (the nose) and the left side's; a right keypoint
# takes its left twin's with x (the body's left) negated, and the midline's x stays zero
_LEFT_OR_MIDDLE = [k for k, name in enumerate(COCO_NAMES) if not name.startswith("right_")]
_FROM_HALF = [_LEFT_OR_MIDDLE.index(COCO_NAMES.index(name.replace("right_", "left_"))) for name in COCO_NAMES]
_MIRROR = np.array([[-1.0 if name.startswith("right_") else float(name.startswith("left_")), 1.0, 1.0]
                    for name in COCO_NAMES])


def _rotvec(R: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(R).as_rotvec()


def _state(pose, transl, betas, cam_rv, cam_t, log_f, old: BAState, body, seg, offs, kp, conf,
           offsets=None) -> BAState:
    with torch.no_grad():
        out = body(pose, betas[seg], transl, offsets=offsets)
        rot = rodrigues(cam_rv)
        cam_pts = torch.einsum("nij,nkj->nki", rot[seg], out.keypoints) + cam_t[seg][:, None]
        centre = torch.as_tensor(np.stack([c.centre for c in old.cameras]), dtype=pose.dtype, device=pose.device)
        uv = project(cam_pts, log_f.exp()[seg], centre[seg])
        seen = conf > 0
        err = ((uv - kp).norm(dim=-1) * seen).sum(1) / seen.sum(1).clamp_min(1)
    P, Tr, KP, J, E = (x.detach().cpu().numpy() for x in (pose, transl, out.keypoints, out.joints, err))
    R, t, f = (x.detach().cpu().numpy() for x in (rot, cam_t, log_f.exp()))
    cams = tuple(replace(c, R=R[j].astype(np.float64), t=t[j].astype(np.float64), focal=float(f[j]))
                 for j, c in enumerate(old.cameras))
    sl = [slice(offs[j], offs[j + 1]) for j in range(len(offs) - 1)]
    B = betas.detach().cpu().numpy()
    return BAState(tuple(P[s] for s in sl), tuple(Tr[s] for s in sl), tuple(B[j] for j in range(len(sl))), cams,
                   tuple(KP[s] for s in sl), tuple(J[s] for s in sl), tuple(E[s] for s in sl))
