"""The capture engine from 2D tracks: synchronisation (2D poses against the clip that spans most of
the action, core.reference; clips that are mirror images unflipped, core.flipped; then checked and
refined by two-view epipolar geometry, core.epipolar) -> monocular initialisation -> camera registration and
adjustment (core.camera_ba, which on short clips also fits each clip's time offset and tilt) ->
(SMPL-BA <-> synchronisation by reprojection, core.retime) x K. The BA
also moves each clip's times with the motion (a correction linear between a few knots); the
re-timing then places every frame again. The times reported are halfway between the last BA's
and the re-timing against its motion (:func:`mean_times`).

``capture_from_tracks`` is what ``python -m core capture`` runs after detection and what the
benchmark runs on synthetic tracks.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .ba import BASettings, BAState, body_frame, bundle_adjust, initial_state, rotate_world
from .camera_ba import refine_cameras, to_body_scale
from .cameras import Camera, register_cameras
from .epipolar import EpipolarSettings, refine_correspondence
from .errors import UserError
from .exemplars import MIN_RUN, pose_targets, runs_of
from .extremities import at_rest
from .flipped import flipped_clips, unflip
from .init3d import InitSettings, _person_height, fit_monocular
from .reference import choose_reference
from .retime import RetimeSettings, retime
from .sightlines import off_line_degrees, one_line_frames
from .steady import SIGMA_S, steadied
from .sync import Correspondence, SyncSettings, features_2d, monotone, synchronise
from .timeline import Extension, filled, pad, plan, public_corr, public_state, shifted
from .triangulate import limbs_from_views, place_on_triangulation, triangulate, unseen_from_views
from .turns import mend_turned_frames


# the later rounds' penalty on the shared motion's joint accelerations (BASettings.w_accel_pose). The
# protocol's 2D noise shook the joints from frame to frame: on the 18 DeepMimic runs (4 views, seeds
# 0-2) PA-MPJPE 20.33 -> 15.23 mm, sync 0.584 -> 0.548%; cmu_01_jumps seed 0 19.52 -> 14.46 mm (the
# oracle 21.26 -> 15.27), 0.088 -> 0.079%; bench e2e (real YOLO detections) 55.9 -> 48.2 mm, 0.172 ->
# 0.182%. Weight 15: 15.19 mm, but spinkick seed 1 23.3 (19.0 without; 17.8 at 5). The root's
# rotation in the penalty too: 15.05 mm, spinkick seed 1 20.3. The first differences' weight
# (w_smooth_pose) raised instead slowed the fast motions: x30, 16.58 mm, spinkick seed 1 21.2; x100, 28.7
ACCEL = 5.0
# the later rounds' time correction (BASettings.fit_times): 9 knots over each clip's span, at 0.1
# frames per step, rather than an offset and a tilt at 0.02. On the 18 DeepMimic runs (4 views,
# seeds 0-2): sync 0.548 -> 0.503% (run seeds 0-2 0.74 / 0.86 / 0.44 -> 0.51 / 0.60 / 0.30; walk
# seed 1 0.78 -> 1.06, kick seed 2 0.46 -> 0.57), PA-MPJPE 15.23 -> 15.14 mm; 3 views 0.563 ->
# 0.555%, 20.29 -> 20.24 mm; cmu_01_jumps seed 0 0.0794 -> 0.0796%, 14.46 -> 14.47 mm; bench e2e
# 0.182 -> 0.191%, 48.22 -> 48.12 mm. Two knots at 0.1: 0.551%. At 0.02, 5 / 9 / 17 knots: 0.525 /
# 0.518 / 0.526%; 9 knots at 0.05 / 0.2: 0.504 / 0.509%; 17 at 0.1: 0.520%; a knot per reference
# frame: 0.554%; the knots' second differences penalised (weight 10 / 100): 0.512 / 0.544%; fitted
# in the first BA as well: 0.542%, 15.50 mm
TIME_KNOTS, LR_TIMES = 9, 0.1


def _later_rounds(**changes) -> BASettings:
    """The BA settings the rounds after the first share (see CaptureSettings.ba_again, ba_later)."""
    return BASettings(iterations=100, shared_first=0.5, optimise_cameras=True, w_accel_pose=ACCEL,
                      time_knots=TIME_KNOTS, lr_times=LR_TIMES, **changes)


@dataclass(frozen=True)
class CaptureSettings:
    rank: int = 1
    iterations: int = 5  # outer rounds of sync <-> BA (the paper's reference configuration: up to 5)
    # clips that are mirror images (flipped videos) are found and unflipped (core.flipped)
    unflip: bool = True
    # the clip whose timeline the capture is built on; None: the one that spans most of the action
    # (core.reference), judged from the first synchronisation against the first clip
    reference: int | None = None
    # the timeline extended before and after the reference clip where other clips show more of the
    # action (core.timeline)
    extend_timeline: bool = True
    # stop when the re-timing moves the reference times less than this from those the last BA
    # settled on: a mean over the clips' frames, in percent of the reference timeline (the sync
    # error's unit); the first re-timing is always followed by another BA round (it replaces the 2D
    # poses' times, not refines them). The per-frame re-timing and the BA's time fit kept a
    # ~0.2-frame disagreement (cmu_01_jumps seeds 0/1/2 with both fitting times: 0.38-0.48, then
    # 0.19-0.21, then 0.11-0.18 frames of 687). It was 0.2 frames whatever the length: 0.03% of
    # cmu_01_jumps, but 0.5% of a 38-frame clip, so the short clips stopped after two rounds while
    # their times still moved by a sync error's worth. In percent, the 18 DeepMimic runs (seeds 0-2)
    # take all five rounds (with ``ba_later``): PA-MPJPE 4 views 23.09 -> 22.36 mm (kick s1 33.0 ->
    # 28.1, punch s0 23.5 -> 20.2), 3 views 31.24 -> 30.01, 2 views 67.14 -> 64.53; sync error
    # 0.747 -> 0.730%. Five rounds on cmu_01_jumps seed 0 cost 12 s more for 19.98 -> 20.56 mm;
    # this keeps it at two
    stop_change_pct: float = 0.03
    single_model: bool = False  # one shared motion for all clips (the ablation)
    # the feet and hands, which no keypoint turns, at rest in the answer (core.extremities)
    rest_unpinned: bool = True
    # the answer's motion smoothed along time by a Gaussian of this many seconds (core.steady; 0: not)
    steady_s: float = SIGMA_S
    device: str = "cpu"
    # monocular fits: a short one when BA follows, the full one when a single clip is all there is
    init: InitSettings = field(default_factory=lambda: InitSettings(iterations=100, torso_iterations=30))
    init_single: InitSettings = field(default_factory=InitSettings)
    # the first synchronisation, from the 2D keypoints (the monocular 3D carries too little)
    sync_2d: SyncSettings = field(default_factory=lambda: SyncSettings(tau_scale=2.5, step_penalty=0.3, rounds=4))
    # ... then checked and refined by two-view epipolar geometry (core.epipolar; None: off). Sync
    # error of this first synchronisation without -> with: cmu_01_jumps seed 0 0.162 -> 0.100%, seed 1
    # with two views 34.9 -> 0.14% (the pose match 247 frames off); DeepMimic seed 0 0.93-2.17 ->
    # 0.36-1.90%. After the rounds, 18 DeepMimic runs (seeds 0-2): 29.62 -> 29.39 mm, 1.00 -> 0.80%
    epipolar: EpipolarSettings | None = field(default_factory=EpipolarSettings)
    # the first BA holds the 2D synchronisation's times; the later rounds also fit each clip's times
    # (BASettings.fit_times; then an offset and a tilt, now knots: TIME_KNOTS). Seed 0, PA-MPJPE / sync
    # error before -> after: cmu_01_jumps 27.3 / 0.112% -> 27.3 / 0.110%; DeepMimic walk 25.1 / 1.94
    # -> 24.4 / 1.77, run 34.3 / 1.69 ->
    # 33.1 / 1.59, jump 27.9 / 1.00 -> 27.2 / 0.86, kick 30.2 / 0.81 -> 29.8 / 0.74, punch 28.7 / 0.88
    # -> 27.4 / 0.80, spinkick 28.5 / 0.37 -> 28.5 / 0.37. Fitting them in the first BA too cut the
    # sync error further (punch 0.67%, jump 0.62) but left deepmimic_punch at 31.8 mm, 1.27x the oracle
    # The first BA also holds the keypoints' offsets from the body (BASettings.fit_offsets) at zero:
    # from the rough start they took up 1-7 cm of its errors. Fitted in the later rounds only,
    # PA-MPJPE fell on all 18 DeepMimic runs (4 views, seeds 0-2; mean 29.7 -> 26.4 mm, sync 0.81 ->
    # 0.80%); fitted from the first BA, 26.0 mm and 0.84%, but deepmimic_run seed 0 28.1 -> 39.2 mm
    ba: BASettings = field(default_factory=lambda: BASettings(iterations=300, fit_times=False, fit_offsets=False))
    # the rounds after the first start from its answer, with fewer steps. Each round restarts its
    # clips' departures from the shared motion at zero, so they need steps of their own: with the
    # shared motion alone for the first 70% of 100 steps they had 30; half of them: PA-MPJPE
    # cmu_01_jumps seed 0 21.2 -> 20.6 mm, the 18 DeepMimic 4-view runs 26.35 -> 25.72, real YOLO
    # detections (bench e2e) 61.8 -> 60.8, at the same cost. 200 steps, half shared, fit the protocol
    # better (20.2 mm, 24.87) but e2e worse (67.7: the keypoint offsets pull the body off its joints)
    # These rounds also refine the cameras with the bodies (BASettings.optimise_cameras; the reference
    # camera stays). The camera adjustment fitted them together with the first synchronisation's times,
    # and a camera a few degrees off holds the clips' times off with it. On the 18 DeepMimic runs (4
    # views, seeds 0-2): sync 0.622 -> 0.584%, PA-MPJPE 20.64 -> 20.33 mm (run seed 0 1.045 -> 0.824%);
    # bench e2e 57.6 -> 55.9 mm, 0.168 -> 0.172%; cmu_01_jumps seed 0 19.43 -> 19.52 mm, 0.086 -> 0.088%,
    # its cameras 3.1-3.7 degrees off before and 3.4-3.7 after, focal lengths within 12% both ways
    ba_again: BASettings = field(default_factory=_later_rounds)
    # the rounds after the second hold the keypoints' offsets the second fitted. Fitted again in every
    # round, they drift off the joints on real detections: bench e2e 60.5 -> 69.0 mm with five rounds
    # (60.4 held); on the 18 DeepMimic 4-view runs they gain more (22.03 mm against 22.36 held)
    ba_later: BASettings = field(default_factory=lambda: _later_rounds(fit_offsets=False, hold_offsets=True))
    # synchronisation in the rounds after BA: each clip's 2D against the reference's motion seen
    # through the clip's camera (core.retime)
    retime: RetimeSettings = field(default_factory=RetimeSettings)
    # cameras refined by a bundle adjustment over free 3D keypoints before SMPL-BA (core.camera_ba)
    camera_ba: bool = True
    # the first BA's start: each limb of the reference's bodies from the clip whose body at that
    # instant fits the triangulated keypoints best (core.triangulate.limbs_from_views). DeepMimic
    # seeds 0-2, PA-MPJPE mean with 4 views 24.48 -> 23.09 mm, 3 views 32.57 -> 31.24, 2 views
    # 70.89 -> 67.14; the oracle on spinkick seed 2, 4 views, 44.0 -> 19.9 mm (its kicking leg had
    # stayed flipped in depth through three frames that three views see); cmu_01_jumps seed 0 20.55
    # -> 19.98
    limbs_from_views: bool = True


@dataclass(frozen=True, eq=False)
class CaptureOutput:
    state: BAState
    corr: Correspondence
    mono: list  # the monocular fits (the reference clip's over the whole timeline, padded frames included)
    first_corr: Correspondence  # from the monocular initialisation (the no-iteration ablation)
    seconds: dict
    rounds: int
    warnings: list
    flipped: tuple = ()  # the clips found to be mirror images and captured unflipped (core.flipped)
    # frames added before and after the reference clip's (core.timeline): its frame i is timeline
    # frame i + extension.before; the shared motion spans the whole timeline
    extension: Extension = Extension()


# reference frames that only the reference clip shows are a one-clip estimate: on the protocol's
# 4-view DeepMimic runs (seeds 0-2) PA-MPJPE 148 mm there against 20 where all four clips see the
# frame, on the demo's YOLO detections (bench e2e) 114 mm against 39. Over this fraction of the
# timeline, the capture says so
ALONE_WARN = 0.1


def frame_ranges(frames: np.ndarray) -> str:
    """Sorted frame indices as ranges: [0, 1, 2, 7] -> '0-2, 7'."""
    if not len(frames):
        return ""
    cuts = np.where(np.diff(frames) > 1)[0]
    starts, ends = np.r_[frames[0], frames[cuts + 1]], np.r_[frames[cuts], frames[-1]]
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in zip(starts, ends))


def coverage_note(corr: Correspondence, name: str) -> str | None:
    """A warning when over ``ALONE_WARN`` of the timeline's frames are shown by one clip alone (the
    reference clip, ``name``, where it is the one); None otherwise or with one clip."""
    views = corr.views_per_frame()
    alone = np.where(views <= 1)[0]
    if len(corr.clip_time) < 2 or len(alone) <= ALONE_WARN * len(views):
        return None
    by_ref = np.isfinite(corr.clip_time[corr.reference][alone]).all()
    where = "reference" if len(views) == len(corr.ref_time[corr.reference]) else "timeline"
    return (f"{where} frames {frame_ranges(alone)} ({len(alone) / len(views):.0%} of them) are seen by "
            f"{name if by_ref else 'one clip'} alone: the motion there is a one-clip estimate, several times less "
            f"accurate than where other clips see it; a clip that covers them would help")


# frames whose clips all see the performer along nearly one line (core.sightlines) are named when
# those in stretches of core.exemplars.MIN_RUN frames or more (across a shorter one the smoothness
# carries the pose from the frames either side) are over this fraction of the timeline: the demo's
# 19 (8%), captured 40-200 mm off
LINE_WARN = 0.05


def sightline_note(corr: Correspondence, state: BAState, names: list[str], where: str = "reference") -> str | None:
    """A warning when over ``LINE_WARN`` of the timeline's frames are seen only by clips whose
    lines of sight lie near one line (core.sightlines), in stretches of ``MIN_RUN`` frames or more.
    ``state`` and ``corr`` are on the engine's timeline (the reference clip's keypoints spanning
    it), ``names`` per clip; ``where`` names the frames ("timeline" once it extends past the
    reference clip)."""
    shows = np.isfinite(np.stack(corr.clip_time))
    off = off_line_degrees(state, shows, corr.reference)
    line = one_line_frames(off)
    frames = runs_of(np.where(line)[0], MIN_RUN)
    if len(frames) <= LINE_WARN * len(line):
        return None
    clips = [names[j] for j in np.where(shows[:, frames].any(1))[0]]
    return (f"{where} frames {frame_ranges(frames)} ({len(frames) / len(line):.0%} of them) are seen only by "
            f"{' and '.join(clips)} along nearly one line (their lines of sight {np.median(off[frames]):.0f} degrees "
            f"from parallel or opposite): depth along it is poorly fixed there, and detection errors can move the "
            f"body far in depth; a clip from the side would help")


# a clip whose bodies fit its keypoints this much worse than the other clips' do (median
# reprojection relative to the person's height in its image: MISFIT_RATIO times the others' median
# and over MISFIT_REL) likely shows another action or another person. On the 18 DeepMimic runs (4
# views, seeds 0-2) a clip's figure reached 5.5% and 3.1x the others'; a clip of another action put
# among three views of jump, punch or kick (walk or spinkick, first or third) 7.7-18.3% and 3.5-9x,
# but for a walk among jumps (3.5%, 1.7x), which the synchroniser matched with confidence 0.87
MISFIT_RATIO = 2.5
MISFIT_REL = 0.065


def clip_name(tracks, j: int) -> str:
    return f"clip {j} ({tracks[j].source})" if tracks[j].source else f"clip {j}"


def misfit_notes(tracks, reproj_px) -> list[str]:
    """Warnings for the clips whose keypoints the capture's bodies fit far worse than the others'
    (see ``MISFIT_RATIO``); ``reproj_px`` per clip (N_j,) reprojection errors."""
    if len(tracks) < 3:
        return []
    rel = np.array([np.nanmedian(r) / np.median(_person_height(t.keypoints, t.confidence))
                    for r, t in zip(reproj_px, tracks)])
    notes = []
    for j, r in enumerate(rel):
        others = float(np.median(np.delete(rel, j)))
        if r > MISFIT_REL and r > MISFIT_RATIO * others:
            notes.append(f"{clip_name(tracks, j)}: the captured body fits its keypoints poorly (median reprojection "
                         f"{np.nanmedian(reproj_px[j]):.0f} px, {100 * r:.0f}% of the person's height, against "
                         f"{100 * others:.0f}% in the other clips): it may show another action or another person; "
                         f"check it, or capture without it")
    return notes


def check_tracks(tracks) -> list[str]:
    """Refuse NaN/inf; returns the names of clips nobody was detected in."""
    empty = []
    for t in tracks:
        t.check_finite()
        if t.frames_with_person == 0:
            empty.append(t.source or "a clip")
    return empty


def capture_from_tracks(tracks, body, settings: CaptureSettings = CaptureSettings(), progress=None,
                        oracle: tuple | None = None, known_focal: list | None = None) -> CaptureOutput:
    """Run the engine on per-clip Tracks2D. ``oracle`` = (cameras, correspondence) gives true
    cameras and synchronisation to the same BA (the benchmark's limit); either may be None, and
    the engine then estimates that one (the benchmark's split of the gap to the limit between
    synchronisation and cameras). ``known_focal[j]`` (or None) a clip's focal length known
    otherwise (a panning camera's, from its homographies)."""
    notes: list[str] = []
    if not tracks:
        raise UserError("no clips to capture")
    secs: dict[str, float] = {}
    ref = settings.reference
    dev = settings.device
    init = replace(settings.init if len(tracks) > 1 else settings.init_single, device=dev)
    ba_sets = [replace(b, rank=settings.rank, device=dev) for b in (settings.ba, settings.ba_again, settings.ba_later)]
    true_cams, true_corr = oracle if oracle is not None else (None, None)
    if true_corr is not None:
        ba_sets = [replace(b, fit_times=False) for b in ba_sets]  # the true times stay as they are
    retime_set = replace(settings.retime, device=dev)
    say = progress or (lambda *a, **k: None)

    if len(tracks) == 1:
        t = time.perf_counter()
        mono = fit_monocular(tracks, body, init, progress=lambda d, n: say("init", d, n))
        secs["init"] = time.perf_counter() - t
        notes.append("one clip: monocular capture (no synchronisation, no multi-view refinement)")
        m = mono[0]
        cam = Camera(np.eye(3), np.zeros(3), m.focal, m.centre)
        state = BAState((m.pose,), (m.transl,), (m.betas,), (cam,), (m.keypoints,), (m.joints,), (m.reproj_px,))
        t = time.perf_counter()
        state = _polished(state, tracks, body, 0, init.min_conf, settings)
        secs["polish"] = time.perf_counter() - t
        ident = np.arange(tracks[0].frames, dtype=float)
        corr = Correspondence(0, (ident,), (ident.copy(),), np.ones(1))
        secs["total"] = sum(secs.values())
        return CaptureOutput(state, corr, mono, corr, secs, 0, notes)

    fps = [tr.fps for tr in tracks]
    flipped: list[int] = []
    t = time.perf_counter()
    if true_corr is None:
        feats, valid = features_2d(tracks)
        corr, caught = _sync_2d(feats, fps, valid, 0 if ref is None else ref, settings.sync_2d, dev)
        if ref is None:
            ref, _ = choose_reference(corr, fps, settings.sync_2d.min_confidence)
            if ref != corr.reference:
                corr, caught = _sync_2d(feats, fps, valid, ref, settings.sync_2d, dev)
        if settings.unflip:
            flipped = flipped_clips(tracks, ref, fps, settings.sync_2d)
            if flipped:
                tracks = [unflip(tr) if j in flipped else tr for j, tr in enumerate(tracks)]
                notes += [f"{clip_name(tracks, j)} looks like a mirror image of the others (a horizontally flipped "
                          f"video, or the action done with the other hand or foot): it was captured unflipped and "
                          f"its plate is shown flipped back; if the video is not flipped, capture with "
                          f"--keep-mirrored (in Blender: untick Unflip Mirrored Clips)" for j in flipped]
                feats, valid = features_2d(tracks)
                corr, caught = _sync_2d(feats, fps, valid, ref, settings.sync_2d, dev)
        notes += caught
        if settings.epipolar is not None:
            refined = refine_correspondence(tracks, corr, fps, settings.epipolar)
            dropped = set(corr.warnings) - set(refined.warnings)
            notes = [n for n in notes if n not in dropped] + [w for w in refined.warnings if w not in corr.warnings]
            corr = refined
    else:
        corr = true_corr
        ref = corr.reference
    own_tracks, ext = tracks, Extension(frames=tracks[ref].frames)
    if true_corr is None and settings.extend_timeline:
        # clips that start earlier or end later than the reference: the timeline grows to hold
        # them, the reference clip padded with empty frames (core.timeline). The cameras come from
        # the frames the synchronisation matched; the extrapolated ends join after them
        ext = plan(tracks, corr, fps, settings.sync_2d.min_confidence)
        if ext.extended:
            tracks = [pad(tr, ext.before, ext.after) if j == ref else tr for j, tr in enumerate(tracks)]
            corr = shifted(corr, ext)
    first = filled(corr, fps, ext, settings.sync_2d.min_confidence)
    secs["sync"] = time.perf_counter() - t
    t = time.perf_counter()
    mono = fit_monocular(tracks, body, init, progress=lambda d, n: say("init", d, n))
    secs["init"] = time.perf_counter() - t

    t = time.perf_counter()
    cams, sims = register_cameras(mono, corr, ref)
    state = initial_state(mono, cams, sims, ref, body)
    cams, info, mirror_note = None, {}, []
    if true_cams is not None:
        cams = list(true_cams)
    elif settings.camera_ba:
        # the clips' times fitted with the cameras, unless they are the true ones
        cams, info = refine_cameras(tracks, corr, list(state.cameras), known_focal=known_focal,
                                    fit_times=true_corr is None)
        if "ref_time" in info:
            corr = corr.with_ref_time(info["ref_time"])
        if info.get("focal_at_limit"):
            names = ", ".join(clip_name(tracks, j) for j in info["focal_at_limit"])
            notes.append(f"camera registration looks wrong for {names} (focal length at the edge of the "
                         f"plausible range): the motion may be too ambiguous for these views; check the "
                         f"cameras in Blender, or capture from fewer clips")
        if info.get("mirrored") is not None:
            mirror_note = [f"the recovered cameras see a mirror image of the performer ({info['mirrored']:.0%} of "
                           f"the bent knees bend backwards): the views may be too few or too alike to place them; "
                           f"check the cameras in Blender, or add a clip from another side"]
    corr = filled(corr, fps, ext, settings.sync_2d.min_confidence)
    hypotheses = [cams] + info.get("hypotheses", [])  # only the camera adjustment offers more
    starts = [_start_state(tracks, corr, mono, state, c, body, ref, settings.limbs_from_views) for c in hypotheses]
    secs["cameras"] = time.perf_counter() - t
    secs["ba"] = 0.0
    ba_round = dict(single_model=settings.single_model, progress=lambda d, n: say("ba", d, n))
    judged = None
    if len(starts) > 1:
        # the camera adjustment's mirror check left several candidates: the body judges them, by
        # how well the first bundle adjustment through each fits the 2D (DeepMimic kick, two views,
        # seed 2: median reprojection 87 and 401 px through the mirror image's cameras, 10 and 15
        # through clip 1's turned half a turn)
        t = time.perf_counter()
        tried = [bundle_adjust(tracks, corr, s, body, ba_sets[0], ref, **ba_round) for s in starts]
        score = [float(np.mean([np.nanmedian(r) for r in a.reproj_px])) for a in tried]
        best = int(np.argmin(score))
        judged = tried[best]
        if best != 0:
            mirror_note = [f"the body fits the 2D better through another camera candidate than the mirror check "
                           f"chose (median reprojection {score[best]:.1f} px against {score[0]:.1f})"]
        secs["ba"] += time.perf_counter() - t
    notes += mirror_note
    state = starts[0]
    rounds = 0
    for k in range(max(1, settings.iterations)):
        rounds = k + 1
        t = time.perf_counter()
        if k == 0 and judged is not None:
            state = judged
        else:
            # after the first, the frames one clip alone shows are pulled towards poses of frames
            # more clips show (core.exemplars), chosen on the last adjustment's bodies
            targets = pose_targets(state, corr, tracks, ref) if k else None
            state = bundle_adjust(tracks, corr, state, body, ba_sets[min(k, 2)], ref,
                                  fixed_cameras=true_cams is not None, targets=targets, **ba_round)
        secs["ba"] += time.perf_counter() - t
        fitted = retimed = None  # this adjustment's own times, and the re-timing against its motion
        if state.ref_time is not None:
            corr = fitted = corr.with_ref_time(state.ref_time)
        if k == settings.iterations - 1 or (true_corr is not None and k >= 1):
            break
        if true_corr is not None:
            continue  # the true times: the same BA schedule, nothing to re-time
        t = time.perf_counter()
        retimed = _retime(tracks, state, fps, ref, retime_set, first)
        secs["sync"] += time.perf_counter() - t
        change = retimed.changed_from(corr)
        corr = retimed
        if k >= 1 and change < settings.stop_change_pct / 100 * max(1, tracks[ref].frames - 1):
            break
    if fitted is not None and true_corr is None:
        # the answer: halfway between the last adjustment's times and the re-timing against its
        # motion. Both estimate the same times with errors only partly shared (the knots' straight
        # pieces against the per-frame matches' l1 trend), and which one a run reported depended on
        # whether it stopped early (then the re-timing's) or took every round (the adjustment's).
        # On the 18 DeepMimic runs (seeds 0-2), sync error 4 views 0.426 -> 0.408% (12 runs better),
        # 3 views 0.540 -> 0.534%, 2 views 0.996 -> 0.883%; bench e2e 0.179 -> 0.173%; cmu_01_jumps
        # seed 0 0.076 -> 0.079%. The re-timing alone: 4 views 0.412% (9 runs better), e2e 0.171%
        t = time.perf_counter()
        if retimed is None:
            retimed = _retime(tracks, state, fps, ref, retime_set, first)
        corr = mean_times(fitted, retimed)
        secs["sync"] += time.perf_counter() - t
    t = time.perf_counter()
    state = _polished(state, tracks, body, ref, ba_sets[-1].min_conf, settings)
    secs["polish"] = time.perf_counter() - t
    line = sightline_note(corr, state, [tr.source or f"clip {j}" for j, tr in enumerate(own_tracks)],
                          "timeline" if ext.extended else "reference")
    secs["total"] = sum(secs.values())
    state, corr, first = public_state(state, ref, ext), public_corr(corr, ext), public_corr(first, ext)
    alone = coverage_note(corr, own_tracks[ref].source or f"clip {ref}")
    notes += misfit_notes(own_tracks, state.reproj_px)
    notes += [n for n in (alone, line) if n]
    return CaptureOutput(state, corr, mono, first, secs, rounds, notes, tuple(flipped),
                         ext)


def _polished(state: BAState, tracks, body, ref: int, min_conf: float, settings: CaptureSettings) -> BAState:
    """The answer once the rounds are done: its motion steadied (core.steady), then its feet and
    hands at rest (core.extremities), as the settings ask."""
    if settings.steady_s > 0:
        state = steadied(state, tracks, body, ref, min_conf, settings.steady_s)
    if settings.rest_unpinned:
        state = at_rest(state, tracks, body, min_conf)
    return state


def _sync_2d(feats, fps, valid, ref: int, settings: SyncSettings, dev) -> tuple[Correspondence, list[str]]:
    """The first synchronisation, from the clips' 2D against clip ``ref``, and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corr = synchronise(feats, fps, valid, replace(settings, reference=ref, device=dev), kind="2d")
    return corr, [str(w.message) for w in caught]


def _retime(tracks, state: BAState, fps, ref: int, settings: RetimeSettings, first: Correspondence) -> Correspondence:
    """The clips' times from their 2D against the reference's motion in ``state`` (core.retime);
    confidence and warnings stay the ``first`` synchronisation's (the pose match that tells a
    different action apart)."""
    return replace(retime(tracks, state.keypoints[ref], state.cameras, fps, ref, settings),
                   confidence=first.confidence, warnings=first.warnings)


def mean_times(a: Correspondence, b: Correspondence) -> Correspondence:
    """``b`` with each clip's reference times halfway between ``a``'s and ``b``'s (either one
    alone where the other has none)."""
    times = []
    for x, y in zip(a.ref_time, b.ref_time):
        x, y = np.asarray(x, float), np.asarray(y, float)
        both = np.isfinite(x) & np.isfinite(y)
        times.append(monotone(np.where(both, 0.5 * (x + y), np.where(np.isfinite(x), x, y))))
    return b.with_ref_time(tuple(times))


def _start_state(tracks, corr, mono, registered: BAState, cams, body, ref: int, limbs: bool = True) -> BAState:
    """The bundle adjustment's start: the bodies placed through ``cams`` (None: the
    ``registered`` state's own), on the keypoints triangulated through them, in the reference
    body's frame."""
    state = registered
    if cams is not None:
        # the world scaled to the body, the oracle's true cameras too: no uncalibrated capture can
        # know the scale, and in true metres the body's shape prior must stretch to the performer's
        # size (the oracle's PA-MPJPE on the protocol: 37.7 mm unscaled, 34.0 mm scaled)
        cams, _ = to_body_scale(tracks, corr, cams, mono[ref].keypoints)
        state = _place_in_cameras(mono, cams, body)
    points, seen = triangulate(tracks, corr, state.cameras, in_front=True)
    state = place_on_triangulation(state, corr, points, seen, body)
    if limbs:
        state = limbs_from_views(state, corr, points, seen, body)
    state = unseen_from_views(state, corr, seen, mono[ref].valid)
    # single frames still facing backwards (a monocular flip with a twisted spine) would put the
    # BA's unwrapped root rotations a whole turn off after them (see core.turns; DeepMimic punch
    # seed 0: 19.8 or 23.75 mm by the thread count, 18.8 / 19.0 mended)
    state = replace(state, pose=tuple(mend_turned_frames(p) for p in state.pose))
    return rotate_world(state, body_frame(state.pose[ref]), body)  # see core.ba.body_frame


def _place_in_cameras(mono, cameras, body) -> BAState:
    """Monocular bodies placed in the world through known cameras (the oracle's start): each
    body's depth rescaled from the focal guess to the camera's focal, so its projection is kept."""
    moved = []
    for c, m in zip(cameras, mono):
        pelvis = m.joints[:, 0].astype(np.float64).copy()
        pelvis[:, 2] *= c.focal / m.focal
        shift = pelvis - m.joints[:, 0]
        moved.append(replace(m, joints=m.joints + shift[:, None], transl=m.transl + shift))
    sims = [(1.0, c.R.T, -c.R.T @ c.t) for c in cameras]
    return replace(initial_state(moved, list(cameras), sims, 0, body), cameras=tuple(cameras))


