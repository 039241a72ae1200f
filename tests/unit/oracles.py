"""Independent oracles for the reference ops: plain Python loops over every
output position, written from the definitions, sharing no code with cnnkit."""

import math

import numpy as np


def pads(n, k, s, padding, d=1):
    span = d * (k - 1) + 1
    if padding == "valid":
        return 0, (n - span) // s + 1
    if padding == "causal":
        return span - 1, math.ceil(n / s)
    out = math.ceil(n / s)
    total = max((out - 1) * s + span - n, 0)
    return total // 2, out


def conv2d_loops(x, kernel, bias, strides, padding, dilation):
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    (top, oh), (left, ow) = (pads(h, kh, strides[0], padding, dilation[0]),
                             pads(w, kw, strides[1], padding, dilation[1]))
    y = np.zeros((n, oh, ow, f))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for m in range(kh):
                    for q in range(kw):
                        r = i * strides[0] + m * dilation[0] - top
                        col = j * strides[1] + q * dilation[1] - left
                        if 0 <= r < h and 0 <= col < w:
                            y[b, i, j] += x[b, r, col] @ kernel[m, q]
    return y if bias is None else y + bias


def pool2d_loops(x, pool, strides, padding, kind):
    n, h, w, c = x.shape
    (top, oh), (left, ow) = pads(h, pool[0], strides[0], padding), pads(w, pool[1], strides[1], padding)
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - top, j * strides[1] - left
            window = x[:, max(r0, 0):r0 + pool[0], max(c0, 0):c0 + pool[1]]
            y[:, i, j] = window.max(axis=(1, 2)) if kind == "max" else window.mean(axis=(1, 2))
    return y


def convolve_full_loops(x, k):
    """Textbook full convolution: y[i, j] = sum x[m, n] k[i - m, j - n]."""
    h, w = x.shape
    kh, kw = k.shape
    y = np.zeros((h + kh - 1, w + kw - 1))
    for m in range(h):
        for n in range(w):
            y[m:m + kh, n:n + kw] += x[m, n] * k
    return y
