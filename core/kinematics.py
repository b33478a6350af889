"""Rotations and forward kinematics for batches of bodies, written for speed on the CPU (torch).

The fitting loops evaluate thousands of bodies per step. Batched products of 3x3 or 4x4 blocks
(``bmm``, one call per joint down the chain, as ``smplx.lbs`` does) spend their time in call
overhead and poorly vectorised tiny matrices. Here a batch of 3x3 matrices is stored as *planes*:
a tensor (3, 3, ...) whose entry [i, j] is the whole batch's (i, j) element, so every product is
a handful of elementwise operations over long contiguous rows; the kinematic tree is walked one
depth level at a time (8 levels for SMPL's 24 joints instead of 23 steps).
"""

from __future__ import annotations

import math

import torch


def rodrigues_planes(rv: torch.Tensor) -> torch.Tensor:
    """Axis-angle (...,3) -> rotation planes (3,3,...); smooth through the zero rotation.

    R = I + sinc(t) [v]x + 0.5 sinc(t/2)^2 (v v^T - t^2 I), t = |v|: both coefficients are bounded
    and have gradients at t = 0 (torch.sinc), so no epsilon shifts the result."""
    x, y, z = rv.unbind(-1)
    t2 = x * x + y * y + z * z
    t = (t2 + 1e-16).sqrt()
    a = torch.sinc(t / math.pi)  # sin t / t
    c = 0.5 * torch.sinc(t / (2 * math.pi)).square()  # (1 - cos t) / t^2
    one = 1 - c * t2
    rows = (
        one + c * x * x, c * x * y - a * z, c * x * z + a * y,
        c * x * y + a * z, one + c * y * y, c * y * z - a * x,
        c * x * z - a * y, c * y * z + a * x, one + c * z * z,
    )
    return torch.stack(rows, 0).reshape((3, 3) + rv.shape[:-1])


def rodrigues(rv: torch.Tensor) -> torch.Tensor:
    """Axis-angle (...,3) -> rotation matrices (...,3,3)."""
    p = rodrigues_planes(rv)
    return p.permute(tuple(range(2, p.dim())) + (0, 1))


def matmul_planes(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Products of rotation planes (3,3,...) x (3,3,...)."""
    return (a[:, :, None] * b[None]).sum(1)


def matvec_planes(a: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Planes (3,3,...) times vectors (3,...) -> (3,...)."""
    return (a * v[None]).sum(1)


class Tree:
    """A kinematic tree's depth levels: ``order`` the joints level by level, ``sizes`` the levels'
    lengths, ``parent_pos[d]`` the positions (in ``order``) of level d's parents, ``inverse``
    that order undone."""

    def __init__(self, parents):
        parents = [int(p) for p in parents]
        depth = [0] * len(parents)
        for i, p in enumerate(parents):
            if p >= 0:
                if p >= i:
                    raise ValueError("parents must come before their children")
                depth[i] = depth[p] + 1
        self.parents = parents
        self.order = sorted(range(len(parents)), key=lambda i: (depth[i], i))
        pos = {j: k for k, j in enumerate(self.order)}
        levels = [[j for j in self.order if depth[j] == d] for d in range(max(depth) + 1)]
        self.sizes = [len(lv) for lv in levels]
        self.parent_pos = [[pos[parents[j]] for j in lv] if d else [] for d, lv in enumerate(levels)]
        self.inverse = [pos[j] for j in range(len(parents))]
        # index tensors, built once (forward_kinematics runs every optimiser step)
        self.parent_t = torch.as_tensor([max(p, 0) for p in parents])
        self.has_parent_t = torch.as_tensor([p >= 0 for p in parents])
        self.order_t = torch.as_tensor(self.order)
        self.parent_pos_t = [torch.as_tensor(pp, dtype=torch.long) for pp in self.parent_pos]
        self.inverse_t = torch.as_tensor(self.inverse)


def forward_kinematics(rot: torch.Tensor, rest: torch.Tensor, tree: Tree) -> tuple[torch.Tensor, torch.Tensor]:
    """Local rotation planes (3,3,J,B) and rest joints (3,J,B) -> world rotation planes (3,3,J,B)
    and posed joint positions (3,J,B) (the root at its rest position)."""
    dev = rest.device
    has_parent = tree.has_parent_t.to(dev, rest.dtype)
    offset = rest - rest.index_select(-2, tree.parent_t.to(dev)) * has_parent[:, None]  # from the parent
    order = tree.order_t.to(dev)
    rot = rot.index_select(-2, order)  # level order: each level a contiguous slice
    offset = offset.index_select(-2, order)
    n0 = tree.sizes[0]
    world_r, world_t = rot[..., :n0, :], offset[..., :n0, :]
    done = n0
    for size, pp in zip(tree.sizes[1:], tree.parent_pos_t[1:]):
        idx = pp.to(dev)
        pr, pt = world_r.index_select(-2, idx), world_t.index_select(-2, idx)
        sl = slice(done, done + size)
        world_r = torch.cat([world_r, matmul_planes(pr, rot[..., sl, :])], -2)
        world_t = torch.cat([world_t, matvec_planes(pr, offset[..., sl, :]) + pt], -2)
        done += size
    inv = tree.inverse_t.to(dev)
    return world_r.index_select(-2, inv), world_t.index_select(-2, inv)
