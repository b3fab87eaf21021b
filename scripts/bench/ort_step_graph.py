#!/usr/bin/python3
"""Build ONNX graphs for the onnxruntime evaluation (see docs/performance.md, "onnxruntime-node").

  /usr/bin/python3 scripts/bench/ort_step_graph.py OUTDIR [--sizes 256] [--check-size 64]

Writes, for each size S:
  OUTDIR/vgg-fwd-S.onnx   VGG19 conv1_1..conv5_1 forward (Conv+Relu, 2x2 AveragePool), output relu5_1
  OUTDIR/step-S.onnx      the whole Gatys step's loss and input gradient as plain ONNX ops
                          (inputs: image; outputs: loss, grad), no autodiff needed:
                            ReLU'      -> Where(y > 0, g, 0)
                            AvgPool'   -> Resize(nearest, x2) * 0.25
                            Conv'      -> Conv(g, flipped and in/out-transposed kernel, pad 1)  (exact: stride 1, 'same', 3x3)
                            Gram G=FF^T/(CHW), L=sw*sum((G-A)^2)  ->  dF = 4*sw/(CHW) * (G-A) F
                            content L=cw*mean((y-P)^2)            ->  dy = 2*cw/N * (y-P)
  OUTDIR/conv-HxWxC.onnx  single 3x3 'same' convs for throughput
and, for the check size, OUTDIR/check-S.{image,loss,grad}.f32: PyTorch autograd's loss and gradient for
the same weights, so that scripts/bench/ort-step.mjs can verify the hand-written backward pass.
Weights: the same random He-initialised VGG19 shapes as scripts/bench/torch_step.py (seed 0).
Needs Debian's python3-onnx and python3-torch.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_step import CONTENT_LAYER, CONVS, POOL_AFTER, STYLE_LAYERS  # noqa: E402

CONTENT_WEIGHT, STYLE_WEIGHT = 1.0, 1e3


def make_weights():
    import torch

    torch.manual_seed(0)
    weights = []
    for _name, cin, cout in CONVS:
        std = (2.0 / (9 * cin)) ** 0.5
        w = torch.randn(cout, cin, 3, 3) * std
        b = torch.randn(cout) * 0.01
        weights.append((w, b))
    return weights


def torch_features(weights, x):
    import torch.nn.functional as F

    out = {}
    for (name, _ci, _co), (w, b) in zip(CONVS, weights):
        x = F.relu(F.conv2d(x, w, b, padding=1))
        out[name] = x
        if name in POOL_AFTER:
            x = F.avg_pool2d(x, 2)
    return out


def torch_gram(f):
    _, c, h, w = f.shape
    m = f.reshape(c, h * w)
    return (m @ m.t()) / (c * h * w)


def targets(weights, size):
    import torch

    torch.manual_seed(1)
    with torch.no_grad():
        content = torch_features(weights, torch.rand(1, 3, size, size))[CONTENT_LAYER]
        style = torch_features(weights, torch.rand(1, 3, size, size))
        grams = [torch_gram(style[n]) for n in STYLE_LAYERS]
    return content, grams


class G:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def init(self, base, array):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def const_i64(self, base, values):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def op(self, op_type, inputs, base=None, **attrs):
        out = self.name(base or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


def conv(g, x, w, b=None):
    return g.op("Conv", [x, w] + ([b] if b else []), kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])


def forward(g, x, weights):
    feats = {}
    for (name, _ci, _co), (w, b) in zip(CONVS, weights):
        wn = g.init(f"{name}_w", w.numpy())
        bn = g.init(f"{name}_b", b.numpy())
        x = g.op("Relu", [conv(g, x, wn, bn)], base=name)
        feats[name] = x
        if name in POOL_AFTER:
            x = g.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
    return feats


def save(g, path, inputs, outputs):
    graph = helper.make_graph(g.nodes, os.path.basename(path), inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7  # readable by any onnxruntime >= 1.8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def build_forward(weights, size, path):
    g = G()
    feats = forward(g, "image", weights)
    out = g.op("Identity", [feats["conv5_1"]], base="relu5_1")
    save(g, path, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
         [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 512, size // 16, size // 16])])


def build_step(weights, size, path):
    content, grams = targets(weights, size)
    g = G()
    feats = forward(g, "image", weights)
    zero = g.init("zero", np.zeros((), np.float32))
    losses, grads = [], {}  # grads: layer name -> gradient w.r.t. its relu output

    def add_grad(name, t):
        grads[name] = g.op("Add", [grads[name], t]) if name in grads else t

    # content
    y = feats[CONTENT_LAYER]
    diff = g.op("Sub", [y, g.init("content_target", content.numpy())])
    n = content.numel()
    losses.append(g.op("Mul", [g.op("ReduceSum", [g.op("Mul", [diff, diff])], keepdims=0),
                               g.init("cw", np.float32(CONTENT_WEIGHT / n))]))
    add_grad(CONTENT_LAYER, g.op("Mul", [diff, g.init("cw2", np.float32(2 * CONTENT_WEIGHT / n))]))
    # style
    hw = size
    dims = {}
    for name, _ci, cout in CONVS:
        dims[name] = (cout, hw)
        if name in POOL_AFTER:
            hw //= 2
    for name, target in zip(STYLE_LAYERS, grams):
        c, h = dims[name]
        norm = c * h * h
        f = g.op("Reshape", [feats[name], g.const_i64("shape", [c, h * h])])
        gram = g.op("Mul", [g.op("MatMul", [f, g.op("Transpose", [f], perm=[1, 0])]), g.init("inv", np.float32(1 / norm))])
        d = g.op("Sub", [gram, g.init(f"{name}_gram_target", target.numpy())])
        losses.append(g.op("Mul", [g.op("ReduceSum", [g.op("Mul", [d, d])], keepdims=0), g.init("sw", np.float32(STYLE_WEIGHT))]))
        df = g.op("MatMul", [g.op("Mul", [d, g.init("sw4", np.float32(4 * STYLE_WEIGHT / norm))]), f])
        add_grad(name, g.op("Reshape", [df, g.const_i64("shape", [1, c, h, h])]))
    loss = losses[0]
    for t in losses[1:]:
        loss = g.op("Add", [loss, t])
    # backward, from conv5_1 down to the image
    gx = None
    for i in range(len(CONVS) - 1, -1, -1):
        name = CONVS[i][0]
        gy = grads.get(name)
        if name in POOL_AFTER and gx is not None:  # gradient coming from the pooled output
            up = g.op("Resize", [gx, "", g.init("scales", np.array([1, 1, 2, 2], np.float32))], mode="nearest")
            up = g.op("Mul", [up, g.init("quarter", np.float32(0.25))])
            gy = g.op("Add", [gy, up]) if gy else up
        elif gx is not None:
            gy = g.op("Add", [gy, gx]) if gy else gx
        gz = g.op("Where", [g.op("Greater", [feats[name], zero]), gy, zero])
        w = weights[i][0].numpy()  # [cout, cin, 3, 3] -> flipped, transposed [cin, cout, 3, 3]
        wf = g.init(f"{name}_wflip", np.flip(w, axis=(2, 3)).transpose(1, 0, 2, 3))
        gx = conv(g, gz, wf)
    grad = g.op("Identity", [gx], base="grad")
    loss = g.op("Reshape", [loss, g.const_i64("shape", [1])], base="loss")
    save(g, path, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
         [helper.make_tensor_value_info(loss, TensorProto.FLOAT, [1]),
          helper.make_tensor_value_info(grad, TensorProto.FLOAT, [1, 3, size, size])])


def torch_check(weights, size, outdir):
    import torch

    content, grams = targets(weights, size)
    torch.manual_seed(2)
    image = torch.rand(1, 3, size, size, requires_grad=True)
    feats = torch_features(weights, image)
    loss = CONTENT_WEIGHT * torch.nn.functional.mse_loss(feats[CONTENT_LAYER], content)
    for name, target in zip(STYLE_LAYERS, grams):
        loss = loss + STYLE_WEIGHT * ((torch_gram(feats[name]) - target) ** 2).sum()
    loss.backward()
    image.detach().numpy().astype(np.float32).tofile(os.path.join(outdir, f"check-{size}.image.f32"))
    np.array([loss.item()], np.float32).tofile(os.path.join(outdir, f"check-{size}.loss.f32"))
    image.grad.numpy().astype(np.float32).tofile(os.path.join(outdir, f"check-{size}.grad.f32"))


def build_conv(h, c, path):
    g = G()
    rng = np.random.default_rng(0)
    out = conv(g, "x", g.init("w", rng.standard_normal((c, c, 3, 3), np.float32) * 0.05))
    save(g, path, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, h])],
         [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, c, h, h])])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--sizes", default="256")
    ap.add_argument("--check-size", type=int, default=64)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    weights = make_weights()
    for h, c in [(128, 64), (64, 128), (32, 256)]:
        build_conv(h, c, os.path.join(args.outdir, f"conv-{h}x{h}x{c}.onnx"))
    for size in [int(s) for s in args.sizes.split(",")] + [args.check_size]:
        build_forward(weights, size, os.path.join(args.outdir, f"vgg-fwd-{size}.onnx"))
        build_step(weights, size, os.path.join(args.outdir, f"step-{size}.onnx"))
    torch_check(weights, args.check_size, args.outdir)
    print("wrote", sorted(os.listdir(args.outdir)))


if __name__ == "__main__":
    main()
