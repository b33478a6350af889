# SPDX-License-Identifier: GPL-3.0-or-later
"""The body mesh, skinned to the armature (vertex groups named after the bones)."""

from __future__ import annotations

import bpy
import numpy as np

from ..rotations import C_UP


def build_mesh(name: str, collection, body, armature_obj):
    verts = body.vertices.astype(np.float64) @ C_UP.T
    faces = body.faces.astype(np.int64)
    me = bpy.data.meshes.new(name)
    me.from_pydata(verts.tolist(), [], faces.tolist())
    me.update()
    obj = bpy.data.objects.new(name, me)
    collection.objects.link(obj)
    w = body.weights
    for k, bone in enumerate(body.joint_names):
        vg = obj.vertex_groups.new(name=bone)
        idx = np.nonzero(w[:, k] > 1e-4)[0]
        # one call per distinct weight value (rounded) instead of one per vertex
        values = np.round(w[idx, k], 4)
        for v in np.unique(values):
            vg.add(idx[values == v].tolist(), float(v), "REPLACE")
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = armature_obj
    obj.parent = armature_obj
    return obj
