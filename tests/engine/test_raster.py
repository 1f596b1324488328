"""inference/raster.coverage and inference/push_pull against the straightforward versions they replaced
(every texel of every triangle's box tested; gathers for the enlargement, numpy's sum for the blocks):
the same texels and the same numbers, bit for bit."""
import numpy as np
import pytest

from inference import push_pull
from inference.raster import coverage


def brute_force_coverage(uvs, faces, width, height):
    tri = np.asarray(uvs, np.float64)[np.asarray(faces)]
    px = tri[..., 0] * width - 0.5
    py = (1.0 - tri[..., 1]) * height - 0.5
    x0 = np.clip(np.floor(px.min(1)), 0, width - 1).astype(np.int64)
    x1 = np.clip(np.ceil(px.max(1)), 0, width - 1).astype(np.int64)
    y0 = np.clip(np.floor(py.min(1)), 0, height - 1).astype(np.int64)
    y1 = np.clip(np.ceil(py.max(1)), 0, height - 1).astype(np.int64)
    bw, bh = x1 - x0 + 1, y1 - y0 + 1
    counts = bw * bh
    face = np.repeat(np.arange(len(tri)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    qx = x0[face] + local % bw[face]
    qy = y0[face] + local // bw[face]
    ax, ay, bx, by, cx, cy = (px[face, 0], py[face, 0], px[face, 1], py[face, 1], px[face, 2], py[face, 2])
    d1 = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax)
    d2 = (cx - bx) * (qy - by) - (cy - by) * (qx - bx)
    d3 = (ax - cx) * (qy - cy) - (ay - cy) * (qx - cx)
    eps = 1e-9
    inside = ((d1 >= -eps) & (d2 >= -eps) & (d3 >= -eps)) | ((d1 <= eps) & (d2 <= eps) & (d3 <= eps))
    mask = np.zeros((height, width), bool)
    mask[qy[inside], qx[inside]] = True
    return mask


def _grid_mesh(n, rng, jitter):
    """A UV grid like a front projection, two triangles per cell in both windings, corners jittered."""
    u, v = np.meshgrid(np.linspace(0.05, 0.95, n), np.linspace(0.1, 0.9, n))
    uvs = np.stack([u.ravel(), v.ravel()], 1) + rng.normal(0, jitter, (n * n, 2))
    i = np.arange(n - 1)
    a = (i[:, None] * n + i[None, :]).ravel()
    faces = np.concatenate([np.stack([a, a + 1, a + n], 1), np.stack([a + 1, a + n + 1, a + n], 1)])
    return uvs, np.concatenate([faces, faces[:, ::-1]])


def _awkward_triangles(rng, width, height):
    """Slivers, zero-area and repeated corners, edges along rows and columns, corners on texel centres, and
    triangles reaching past the picture."""
    def texel(x, y):    # a texel centre in UV
        return [(x + 0.5) / width, 1.0 - (y + 0.5) / height]
    tris = [
        [texel(2, 3), texel(9, 3), texel(5, 8)],            # an edge along a row, corners on centres
        [texel(4, 1), texel(4, 9), texel(8, 5)],            # an edge along a column
        [texel(1, 1), texel(6, 6), texel(11, 11)],          # collinear: zero area along a diagonal
        [texel(3, 3), texel(3, 3), texel(3, 3)],            # one point
        [texel(2, 5), texel(2, 5), texel(9, 5)],            # a segment along a row
        [texel(0, 0), texel(10, 0.0000001), texel(20, 0)],  # a sliver along a row
        [[-0.2, 1.3], [1.4, 0.5], [0.3, -0.4]],             # past every side of the picture
        [texel(5, 5), texel(5 + 1e-12, 5 + 1e-12), texel(12, 2)],   # a vanishing edge
    ]
    for _ in range(300):
        centre = rng.random(2)
        size = 10.0 ** rng.uniform(-4, -1.2)
        tris.append(centre + rng.normal(0, size, (3, 2)))
    for _ in range(100):   # needles: two corners close together, the third far
        p = rng.random(2)
        q = p + rng.normal(0, 10.0 ** rng.uniform(-9, -3), 2)
        tris.append([p, q, rng.random(2)])
    for _ in range(100):   # corners snapped to texel centres and half-texels
        tris.append([texel(*(rng.integers(0, 2 * max(width, height), 2) / 2.0 - 0.5)) for _ in range(3)])
    uvs = np.asarray(tris, np.float64).reshape(-1, 2)
    faces = np.arange(len(uvs)).reshape(-1, 3)
    return uvs, np.concatenate([faces, faces[:, ::-1]])


@pytest.mark.parametrize("width,height", [(256, 256), (333, 500), (64, 48), (7, 5), (1, 1)])
def test_coverage_is_the_brute_force_test_texel_for_texel(width, height):
    rng = np.random.default_rng(width * 1000 + height)
    for uvs, faces in (_grid_mesh(23, rng, 0.004), _grid_mesh(60, rng, 0.0), _awkward_triangles(rng, width, height)):
        for dtype in (np.float32, np.float64):
            uv = uvs.astype(dtype)
            expected = brute_force_coverage(uv, faces, width, height)
            assert np.array_equal(coverage(uv, faces, width, height), expected)


def test_coverage_of_no_faces_is_empty():
    assert not coverage(np.zeros((0, 2)), np.zeros((0, 3), int), 8, 4).any()
    assert coverage(np.zeros((0, 2)), np.zeros((0, 3), int), 8, 4).shape == (4, 8)


def reference_downsample(values, weight):
    h, w = weight.shape
    ph, pw = h + h % 2, w + w % 2
    v = np.zeros((ph, pw, values.shape[2]), values.dtype)
    wt = np.zeros((ph, pw), weight.dtype)
    v[:h, :w] = values * weight[..., None]
    wt[:h, :w] = weight
    v = v.reshape(ph // 2, 2, pw // 2, 2, -1).sum(axis=(1, 3))
    wt = wt.reshape(ph // 2, 2, pw // 2, 2).sum(axis=(1, 3))
    return np.where(wt[..., None] > 0, v / np.maximum(wt, 1e-12)[..., None], 0.0), np.minimum(wt, 1.0)


def reference_upsample(values, shape):
    h, w = values.shape[:2]
    ys = np.clip((np.arange(shape[0]) + 0.5) * h / shape[0] - 0.5, 0, h - 1)
    xs = np.clip((np.arange(shape[1]) + 0.5) * w / shape[1] - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    dtype = values.dtype
    fy, fx = (ys - y0)[:, None, None].astype(dtype), (xs - x0)[None, :, None].astype(dtype)
    across = values[:, x0] * (1 - fx) + values[:, x1] * fx
    return across[y0] * (1 - fy) + across[y1] * fy


def reference_push_pull(values, known, stop_level=0):
    dtype = values.dtype if values.dtype.kind == "f" else np.float64
    levels = [(values.astype(dtype, copy=False), known.astype(dtype))]
    while max(levels[-1][1].shape) > 1:
        levels.append(reference_downsample(*levels[-1]))
    filled = levels[-1][0]
    coarse = None
    for index in range(len(levels) - 2, -1, -1):
        v, w = levels[index]
        up = reference_upsample(filled, w.shape)
        filled = v * w[..., None] + up * (1 - w[..., None])
        if index == stop_level:
            coarse = filled
    return filled, (filled if coarse is None else coarse)


@pytest.mark.parametrize("shape", [(256, 256), (250, 333), (64, 1), (1, 9), (2, 2), (1, 1), (129, 64)])
@pytest.mark.parametrize("dtype,channels", [(np.float64, 4), (np.float32, 3), (np.float32, 4), (np.float64, 2)])
def test_push_pull_gives_the_same_numbers(shape, dtype, channels):
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    values = rng.random(shape + (channels,)).astype(dtype)
    values[rng.random(shape) < 0.1] *= 1e-7      # magnitudes apart, where the order of additions shows
    known = rng.random(shape) < 0.3
    known[shape[0] // 2:, :] &= rng.random((shape[0] - shape[0] // 2, shape[1])) < 0.02
    for stop in (0, 2, 12):
        got, expected = push_pull.push_pull(values, known, stop), reference_push_pull(values, known, stop)
        for a, b in zip(got, expected):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    for target in [(shape[0] * 2, shape[1] * 2), (shape[0] * 3 + 1, shape[1] + 5), shape]:
        assert np.array_equal(push_pull.upsample(values, target), reference_upsample(values, target))


@pytest.mark.parametrize("source,target", [((32, 32), (512, 512)), ((5, 7), (123, 40)), ((1, 1), (9, 4)),
                                           ((3, 40), (61, 41)), ((16, 2), (16, 30))])
def test_large_enlargements_give_the_same_numbers(source, target):
    values = np.random.default_rng(source[0] + target[1]).random(source + (4,))
    for dtype in (np.float64, np.float32):
        v = values.astype(dtype)
        assert np.array_equal(push_pull.upsample(v, target), reference_upsample(v, target))
