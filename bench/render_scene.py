"""Render the demo clips' frames with the bpy module (Workbench, headless): run by
``bench.render_demo`` as ``python bench/render_scene.py SCENE.npz``; ``--encode FRAMES_DIR OUT.mp4
FPS`` turns a folder of PNG frames into an H.264 MP4 with Blender's own FFmpeg.

SCENE.npz holds the body's faces, a clothing part per face and the parts' colours, the floor height,
and per clip ``c{j}_verts`` (N,V,3) world vertices per frame, ``c{j}_K``, ``c{j}_R`` (N,3,3),
``c{j}_t`` (N,3) OpenCV cameras per frame, ``c{j}_size``, ``c{j}_style`` (world colour RGB,
texture seed) and ``c{j}_dir`` where the PNG frames go. A textured room (floor and four walls)
gives a panning camera background features to track."""

from __future__ import annotations

import os
import sys

import bpy
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from imocap_blender.scene.cameras import camera_intrinsics, camera_matrix_world  # noqa: E402

ROOM = 9.0  # half the room's width, metres
WALL = 5.0


def tiles(seed: int, size: int = 512, n: int = 8) -> np.ndarray:
    """RGBA (size,size,4) floats: n x n tiles of random shades around a random hue, dark grout,
    speckles inside each tile (corners to track)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.25, 0.75, 3)
    shade = np.clip(base[None, None] * rng.uniform(0.6, 1.3, (n, n, 1)), 0, 1)
    img = np.repeat(np.repeat(shade, size // n, 0), size // n, 1)
    img = img * (1 + 0.15 * rng.standard_normal((size, size, 1)))
    grout = (np.arange(size) % (size // n)) < 3
    img[grout] *= 0.3
    img[:, grout] *= 0.3
    for _ in range(4 * n * n):  # speckles
        y, x = rng.integers(0, size - 6, 2)
        img[y:y + 5, x:x + 5] = rng.uniform(0, 1, 3)
    out = np.ones((size, size, 4), np.float32)
    out[..., :3] = np.clip(img, 0, 1)
    return out


def textured_material(name: str, seed: int):
    img = bpy.data.images.new(name, 512, 512)
    img.pixels.foreach_set(tiles(seed).ravel())
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    mat.node_tree.links.new(tex.outputs[0], mat.node_tree.nodes["Principled BSDF"].inputs[0])
    return mat


def plane(name: str, corners, repeat: float, mat):
    me = bpy.data.meshes.new(name)
    me.from_pydata([tuple(c) for c in corners], [], [(0, 1, 2, 3)])
    uv = me.uv_layers.new()
    uv.data.foreach_set("uv", (np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32) * repeat).ravel())
    me.materials.append(mat)
    obj = bpy.data.objects.new(name, me)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def room(floor_z: float, seed: int) -> list:
    r, z0, z1 = ROOM, floor_z, floor_z + WALL
    out = [plane("floor", [(-r, -r, z0), (r, -r, z0), (r, r, z0), (-r, r, z0)], 9, textured_material("floor", seed))]
    walls = [[(-r, r, z0), (r, r, z0), (r, r, z1), (-r, r, z1)], [(r, -r, z0), (-r, -r, z0), (-r, -r, z1), (r, -r, z1)],
             [(r, r, z0), (r, -r, z0), (r, -r, z1), (r, r, z1)], [(-r, -r, z0), (-r, r, z0), (-r, r, z1), (-r, -r, z1)]]
    for i, w in enumerate(walls):
        out.append(plane(f"wall{i}", w, 6, textured_material(f"wall{i}", seed + 1 + i)))
    return out


def body(faces: np.ndarray, parts: np.ndarray, colours: np.ndarray, n_verts: int):
    me = bpy.data.meshes.new("body")
    me.vertices.add(n_verts)
    me.loops.add(faces.size)
    me.polygons.add(len(faces))
    me.loops.foreach_set("vertex_index", faces.ravel().astype(np.int32))
    me.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    me.polygons.foreach_set("loop_total", np.full(len(faces), 3, np.int32))
    for k, c in enumerate(colours):
        mat = bpy.data.materials.new(f"part{k}")
        mat.diffuse_color = tuple(c)
        me.materials.append(mat)
    me.polygons.foreach_set("material_index", parts.astype(np.int32))
    me.polygons.foreach_set("use_smooth", np.ones(len(faces), bool))
    me.update()
    obj = bpy.data.objects.new("body", me)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def main(path: str) -> None:
    d = np.load(path)
    scene = bpy.context.scene
    for o in list(bpy.data.objects):
        bpy.data.objects.remove(o)
    scene.render.engine = "BLENDER_WORKBENCH"
    sh = scene.display.shading
    sh.light, sh.color_type, sh.show_shadows, sh.show_cavity = "STUDIO", "TEXTURE", True, False
    scene.display.render_aa = os.environ.get("IMOCAP_RENDER_AA", "FXAA")  # 8 samples cost 4x the time
    scene.render.image_settings.file_format = "PNG"
    scene.render.resolution_percentage = 100
    if scene.world is None:
        scene.world = bpy.data.worlds.new("World")
    obj = body(d["faces"], d["face_part"], d["part_colours"], d["c0_verts"].shape[1])
    cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    scene.collection.objects.link(cam)
    scene.camera = cam
    cam.data.clip_end = 100.0
    j = 0
    while f"c{j}_verts" in d:
        style = d[f"c{j}_style"]
        built = room(float(d["floor_z"]), int(style[3]))
        scene.world.color = tuple(float(v) for v in style[:3])
        w, h = (int(v) for v in d[f"c{j}_size"])
        scene.render.resolution_x, scene.render.resolution_y = w, h
        camera_intrinsics(cam.data, d[f"c{j}_K"], (w, h))
        out_dir = str(d[f"c{j}_dir"])
        os.makedirs(out_dir, exist_ok=True)
        verts, rots, trans = d[f"c{j}_verts"], d[f"c{j}_R"], d[f"c{j}_t"]
        for k in range(len(verts)):
            obj.data.vertices.foreach_set("co", verts[k].ravel())
            obj.data.update()
            cam.matrix_world = camera_matrix_world(rots[k], trans[k])
            scene.render.filepath = os.path.join(out_dir, f"{k:05d}.png")
            bpy.ops.render.render(write_still=True)
            print(f"PROGRESS clip {j} frame {k + 1}/{len(verts)}", flush=True)
        for o in built:
            bpy.data.objects.remove(o)
        j += 1


def encode(frames_dir: str, out: str, fps: float) -> None:
    """PNG frames -> H.264 MP4 with Blender's FFmpeg (a twentieth of MPEG-4 part 2's size here)."""
    import glob

    files = sorted(glob.glob(os.path.join(frames_dir, "*.png")))
    scene = bpy.context.scene
    strip = scene.sequence_editor_create().strips.new_image(name="frames", filepath=files[0], channel=1, frame_start=1)
    for f in files[1:]:
        strip.elements.append(os.path.basename(f))
    img = bpy.data.images.load(files[0])
    scene.render.resolution_x, scene.render.resolution_y = img.size
    scene.render.resolution_percentage = 100
    scene.frame_start, scene.frame_end = 1, len(files)
    scene.render.fps, scene.render.fps_base = max(1, round(fps)), max(1, round(fps)) / fps
    settings = scene.render.image_settings
    settings.media_type = "VIDEO"
    settings.file_format = "FFMPEG"
    ff = scene.render.ffmpeg
    ff.format, ff.codec, ff.constant_rate_factor, ff.ffmpeg_preset = "MPEG4", "H264", "MEDIUM", "GOOD"
    scene.render.filepath = out
    bpy.ops.render.render(animation=True)


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[-4] == "--encode":
        encode(sys.argv[-3], sys.argv[-2], float(sys.argv[-1]))
    else:
        main(sys.argv[-1])
