# SPDX-License-Identifier: GPL-3.0-or-later
"""Which target bone follows which iMoCap (SMPL) bone: presets from data files, and for any other
humanoid an automatic map by bone-name aliases, filled in by skeleton structure where names fail.
Numpy only (no bpy): a rig is described by a :class:`Skeleton` read from Blender by the caller."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PRESET_DIR = Path(__file__).resolve().parent / "presets"
SMPL_BONES = ("pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
              "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
              "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
              "left_hand", "right_hand")
# the long bones of the limbs: thigh, shin, upper arm, forearm
LIMBS = ("left_hip", "left_knee", "right_hip", "right_knee", "left_shoulder", "left_elbow", "right_shoulder",
         "right_elbow")
REQUIRED = ("pelvis",) + LIMBS
TORSO = frozenset(("pelvis", "spine1", "spine2", "spine3", "neck", "head"))


class MappingError(ValueError):
    """The target rig has no recognisable humanoid structure (the message says what is missing)."""


@dataclass(frozen=True)
class Skeleton:
    """A rig at rest, in world space: bone names, parent indices (-1: none), heads and tails (B,3)."""

    names: tuple[str, ...]
    parents: np.ndarray
    heads: np.ndarray
    tails: np.ndarray

    @property
    def height(self) -> float:
        z = np.concatenate([self.heads[:, 2], self.tails[:, 2]])
        return float(max(z.max() - z.min(), 1e-6))

    @property
    def lengths(self) -> np.ndarray:
        return np.linalg.norm(self.tails - self.heads, axis=1)

    def children(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in self.names]
        for b, p in enumerate(self.parents):
            if p >= 0:
                out[p].append(b)
        return out

    def depth(self, b: int) -> int:
        d = 0
        while self.parents[b] >= 0:
            b, d = int(self.parents[b]), d + 1
        return d


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    description: str
    bones: dict[str, str]
    priority: int = 0  # wins a tie with another preset that fits as well (UE5 over UE4 on a UE5 rig)


# ---------------------------------------------------------------- presets

def load_presets(*extra_dirs) -> dict[str, Preset]:
    """Bundled presets, then any in ``extra_dirs`` (a user's saved maps; same key replaces)."""
    out: dict[str, Preset] = {}
    for d in (PRESET_DIR, *extra_dirs):
        for path in sorted(Path(d).glob("*.json")) if d and Path(d).is_dir() else ():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                bones = {str(k): str(v) for k, v in data["bones"].items() if k in SMPL_BONES and v}
            except (OSError, ValueError, KeyError, AttributeError) as e:
                raise MappingError(f"bone-map preset {path} is not readable: {e}") from e
            out[path.stem] = Preset(path.stem, str(data.get("name", path.stem)), str(data.get("description", "")),
                                    bones, int(data.get("priority", 0)))
    return out


def preset_json(name: str, bones: dict[str, str], description: str = "") -> str:
    return json.dumps({"name": name, "description": description,
                       "bones": {k: bones[k] for k in SMPL_BONES if bones.get(k)}}, indent=2) + "\n"


def strip_namespace(name: str) -> str:
    """'mixamorig:Hips' -> 'Hips' (FBX namespaces are optional in presets)."""
    return name.rsplit(":", 1)[-1]


def _lookup(names) -> dict[str, str]:
    """Every way a preset may name a bone of this rig -> the rig's bone name."""
    look: dict[str, str] = {}
    for n in names:
        for key in (strip_namespace(n).lower(), strip_namespace(n), n.lower(), n):
            look.setdefault(key, n)
    for n in names:
        look[n] = n  # exact names win
    return look


def map_with_preset(preset: Preset, skel: Skeleton) -> dict[str, str]:
    look = _lookup(skel.names)
    out = {}
    for smpl, want in preset.bones.items():
        hit = look.get(want) or look.get(strip_namespace(want)) or look.get(strip_namespace(want).lower())
        if hit:
            out[smpl] = hit
    return out


def detect_preset(presets: dict[str, Preset], skel: Skeleton) -> str | None:
    """The preset that names this rig's bones (all its required bones present, most bones found,
    then its priority), or None."""
    best, best_score = None, (0.0, 0, 0)
    for key, p in presets.items():
        found = map_with_preset(p, skel)
        if not all(r in found for r in REQUIRED if r in p.bones):
            continue
        score = (len(found) / max(len(p.bones), 1), len(found), p.priority)
        if score > best_score:
            best, best_score = key, score
    return best if best_score[0] >= 0.9 else None


# ---------------------------------------------------------------- names

_IGNORE = {"def", "org", "mch", "bip", "bip01", "bip001", "cc", "base", "jnt", "joint", "bone", "mixamorig", "rig",
           "ctrl", "ctl", "deform", "b", "j", "sk", "bn"}
_SIDES = {"l": "left", "left": "left", "lft": "left", "r": "right", "right": "right", "rt": "right",
          "rgt": "right"}
_ALIASES = {  # core name -> SMPL bone, without its side
    "hip": "hip", "thigh": "hip", "upleg": "hip", "upperleg": "hip", "femur": "hip",
    "shin": "knee", "calf": "knee", "lowerleg": "knee", "leg": "knee", "knee": "knee", "loleg": "knee",
    "tibia": "knee", "crus": "knee",
    "foot": "ankle", "ankle": "ankle",
    "toe": "foot", "toes": "foot", "toebase": "foot", "ball": "foot",
    "clavicle": "collar", "collar": "collar", "collarbone": "collar", "shoulder": "collar",
    "upperarm": "shoulder", "arm": "shoulder", "uparm": "shoulder", "humerus": "shoulder",
    "forearm": "elbow", "lowerarm": "elbow", "loarm": "elbow", "elbow": "elbow",
    "hand": "wrist", "wrist": "wrist",
}
_PELVIS = {"hips", "hip", "pelvis", "pelvic"}
_SPINE = {"spine", "chest", "upperchest", "torso", "abdomen", "back"}


def name_parts(name: str) -> tuple[str | None, str, int | None]:
    """(side, core, number) of a bone name: 'DEF-upper_arm.L.001' -> ('left', 'upperarm', 1),
    'mixamorig:LeftUpLeg' -> ('left', 'upleg', None), 'spine_03' -> (None, 'spine', 3)."""
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", strip_namespace(name))
    s = re.sub(r"([A-Za-z])([0-9])", r"\1 \2", s)
    tokens = [t for t in re.split(r"[^A-Za-z0-9]+", s.lower()) if t and t not in _IGNORE]
    side, core, number = None, [], None
    for t in tokens:
        if t in _SIDES and side is None:
            side = _SIDES[t]
        elif t.isdigit():
            number = int(t) if number is None else number
        else:
            core.append(t)
    return side, "".join(core), number


def map_by_aliases(skel: Skeleton) -> dict[str, str]:
    """Bones recognised by name (limbs need a side; several candidates: the unnumbered, else the
    lowest number)."""
    cands: dict[str, list[tuple[int, int]]] = {}
    spine: list[int] = []
    for b, n in enumerate(skel.names):
        side, core, number = name_parts(n)
        rank = -1 if number is None else number
        if side is None and core in _PELVIS:
            cands.setdefault("pelvis", []).append((rank, b))
        elif side is None and core in _SPINE:
            spine.append(b)
        elif side is None and core in ("neck", "head"):
            cands.setdefault(core, []).append((rank, b))
        elif side is not None and core in _ALIASES:
            cands.setdefault(f"{side}_{_ALIASES[core]}", []).append((rank, b))
    out = {k: skel.names[min(v)[1]] for k, v in cands.items()}
    spine.sort(key=skel.depth)
    if "pelvis" not in out and spine and "left_hip" in out:  # e.g. a bone called 'spine' that is the hips
        hips = skel.names.index(out["left_hip"])
        if _is_ancestor(skel, spine[0], hips):
            out["pelvis"] = skel.names[spine.pop(0)]
    out.update(_spread_spine([skel.names[b] for b in spine]))
    return out


def _spread_spine(chain: list[str]) -> dict[str, str]:
    """SMPL's three spine bones onto a chain of any length (the top of the chain carries the chest,
    which the arms and neck hang from)."""
    if not chain:
        return {}
    if len(chain) == 1:
        return {"spine3": chain[0]}
    if len(chain) == 2:
        return {"spine1": chain[0], "spine3": chain[1]}
    return {"spine1": chain[0], "spine2": chain[len(chain) // 2], "spine3": chain[-1]}


def _is_ancestor(skel: Skeleton, a: int, b: int) -> bool:
    while b >= 0:
        if b == a:
            return True
        b = int(skel.parents[b])
    return False


# ---------------------------------------------------------------- structure

def map_by_structure(skel: Skeleton) -> dict[str, str]:
    """Bones recognised by the shape of the skeleton alone: the hips are the bone with two chains
    hanging down to the floor and one rising to the top; a leg's thigh and shin are its two longest
    consecutive bones, an arm's upper arm and forearm likewise; left is the body's left, the side
    the feet point away from being the back."""
    kids = skel.children()
    h = skel.height
    size = _subtree_sizes(skel, kids)
    zmin, zmax = _subtree_extents(skel, kids)
    hips, legs, ups = None, [], []
    for b in range(len(skel.names)):
        z = skel.heads[b, 2]
        down = [c for c in kids[b] if zmin[c] < z - 0.3 * h and zmax[c] <= z + 0.1 * h]
        up = [c for c in kids[b] if zmax[c] > z + 0.25 * h and zmin[c] >= z - 0.1 * h]
        if len(down) >= 2 and up:
            score = sum(size[c] for c in down + up)
            if hips is None or score > hips[0]:
                hips, legs, ups = (score, b), sorted(down, key=lambda c: -size[c])[:2], up
    if hips is None:
        return {}
    hb = hips[1]
    out = {"pelvis": skel.names[hb]}
    min_len = 0.02 * h
    leg_chains = [_long_bones(skel, _main_path(skel, kids, c, size), min_len) for c in legs]
    forward = np.zeros(3)
    for chain in leg_chains:
        i = _longest_pair(skel, chain)
        if i is not None and i + 2 < len(chain):
            forward += skel.tails[chain[-1]] - skel.tails[chain[i + 1]]
    forward[2] = 0.0
    left = np.cross([0.0, 0.0, 1.0], forward / np.linalg.norm(forward)) if np.linalg.norm(forward) > 1e-3 * h \
        else np.array([1.0, 0.0, 0.0])
    for chain in leg_chains:
        i = _longest_pair(skel, chain)
        if i is None:
            continue
        side = "left" if np.dot(skel.heads[chain[i]] - skel.heads[hb], left) > 0 else "right"
        parts = ("hip", "knee", "ankle", "foot")
        for k, b in enumerate(chain[i:i + 4]):
            out.setdefault(f"{side}_{parts[k]}", skel.names[b])
    up = max(ups, key=lambda c: (zmax[c], size[c]))
    path = _top_path(skel, kids, up, zmax, size)
    on_path = set(path)
    arms = []  # (lateral reach, attachment index on the path, chain)
    for k, b in enumerate(path):
        for c in kids[b]:
            if c in on_path:
                continue
            sub = _subtree(kids, c)
            reach = (np.concatenate([skel.heads[sub], skel.tails[sub]]) - skel.heads[b]) @ left
            far = reach[np.argmax(np.abs(reach))]
            if abs(far) > 0.2 * h:
                arms.append((far, k, _long_bones(skel, _main_path(skel, kids, c, size), min_len)))
    chest_k = None
    for side, pick in (("left", max), ("right", min)):
        cand = [a for a in arms if (a[0] > 0) == (side == "left")]
        if not cand:
            continue
        far, k, chain = pick(cand, key=lambda a: a[0])
        chest_k = k if chest_k is None else max(chest_k, k)
        i = _longest_pair(skel, chain)
        if i is None:
            continue
        if i > 0:
            out.setdefault(f"{side}_collar", skel.names[chain[i - 1]])
        for name, b in zip(("shoulder", "elbow", "wrist"), chain[i:i + 3]):
            out.setdefault(f"{side}_{name}", skel.names[b])
    if chest_k is not None:
        out.update({k: v for k, v in _spread_spine([skel.names[b] for b in path[:chest_k + 1]]).items()})
        above = _long_bones(skel, path[chest_k + 1:], min_len)
        if above:
            out["neck"] = skel.names[above[0]]
        if len(above) >= 2:
            out["head"] = skel.names[above[1]]
    return out


def _subtree(kids, b) -> list[int]:
    out, stack = [], [b]
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(kids[x])
    return out


def _subtree_sizes(skel, kids) -> np.ndarray:
    return np.array([len(_subtree(kids, b)) for b in range(len(skel.names))])


def _subtree_extents(skel, kids):
    zmin, zmax = np.empty(len(skel.names)), np.empty(len(skel.names))
    for b in range(len(skel.names)):
        sub = _subtree(kids, b)
        z = np.concatenate([skel.heads[sub, 2], skel.tails[sub, 2]])
        zmin[b], zmax[b] = z.min(), z.max()
    return zmin, zmax


def _main_path(skel, kids, b, size) -> list[int]:
    """From ``b`` down its biggest branch (ties: the longer bone)."""
    path = [b]
    while kids[path[-1]]:
        path.append(max(kids[path[-1]], key=lambda c: (size[c], skel.lengths[c])))
    return path


def _top_path(skel, kids, b, zmax, size) -> list[int]:
    """From ``b`` up the branch that reaches highest (the head, not an arm)."""
    path = [b]
    while kids[path[-1]]:
        path.append(max(kids[path[-1]], key=lambda c: (round(zmax[c], 6), size[c])))
    return path


def _long_bones(skel, chain, min_len) -> list[int]:
    return [b for b in chain if skel.lengths[b] >= min_len]


def _longest_pair(skel, chain) -> int | None:
    if len(chain) < 2:
        return None
    pair = [skel.lengths[a] + skel.lengths[b] for a, b in zip(chain, chain[1:])]
    return int(np.argmax(pair))


# ---------------------------------------------------------------- the map

def auto_map(skel: Skeleton) -> dict[str, str]:
    """Names first; structure fills what names did not find (never reusing a bone)."""
    out = map_by_aliases(skel)
    used = set(out.values())
    for k, v in map_by_structure(skel).items():
        if k not in out and v not in used:
            out[k] = v
            used.add(v)
    return out


def resolve_map(skel: Skeleton, preset: str = "auto", presets: dict[str, Preset] | None = None,
                overrides: dict[str, str] | None = None) -> tuple[dict[str, str], str]:
    """The bone map for ``skel``: a preset by key, or "auto" (a preset that fits, else the automatic
    map); ``overrides`` (SMPL bone -> target bone or '' for none) win. Returns (map, what was used).
    Raises MappingError when the rig lacks the hips or a limb's long bones."""
    presets = load_presets() if presets is None else presets
    if preset == "auto":
        key = detect_preset(presets, skel)
        used = key or "auto"
        bones = map_with_preset(presets[key], skel) if key else auto_map(skel)
    elif preset in presets:
        used, bones = preset, map_with_preset(presets[preset], skel)
    else:
        raise MappingError(f"unknown bone-map preset {preset!r} (known: auto, {', '.join(sorted(presets))})")
    for k, v in (overrides or {}).items():
        if k not in SMPL_BONES:
            raise MappingError(f"{k!r} is not an iMoCap bone (they are: {', '.join(SMPL_BONES)})")
        if v and v not in skel.names:
            raise MappingError(f"the target has no bone {v!r} (mapped from {k})")
        if v:
            bones[k] = v
        else:
            bones.pop(k, None)
    missing = [r for r in REQUIRED if r not in bones]
    if missing:
        raise MappingError("the target rig has no recognisable humanoid structure: found no bone for "
                           f"{', '.join(missing)} (preset {used}); map them by hand in the bone map")
    targets = [v for v in bones.values()]
    dup = sorted({v for v in targets if targets.count(v) > 1})
    if dup:
        raise MappingError(f"bone(s) {', '.join(dup)} are mapped from more than one iMoCap bone")
    return {k: bones[k] for k in SMPL_BONES if k in bones}, used
