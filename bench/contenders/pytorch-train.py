# One training workload in PyTorch on one thread, timed here with the same budget rules as
# bench/lib/harness.mjs (warm-up that calibrates how many steps one sample holds, then samples until
# the time budget and the minimum sample count are both reached). Started by contenders/pytorch.mjs:
#
#   /usr/bin/python3 bench/contenders/pytorch-train.py < job.json     (prints one JSON line)
#
# job: { dir, shape: [in, ..., classes], batch, batches, checkSteps, budget: {...}, layers: [{w, b}] }
# where dir holds x.f32 (batches × batch × in), labels.i32 and the layer files named in `layers`
# (weights [units][inputs] row-major, as torch.nn.Linear stores them). The model is
# nn.Sequential(Linear, ReLU, …, Linear) with F.cross_entropy on the logits (the softmax is fused
# into the loss, as in simdnn and TF.js) and torch.optim.Adam with its defaults (lr 1e-3, betas
# 0.9/0.999, eps 1e-8). Each step: zero_grad → forward → loss → backward → step → loss.item().
import json
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass  # already set

job = json.load(sys.stdin)
shape, batch, batches = job['shape'], job['batch'], job['batches']
d = job['dir']
x = torch.from_numpy(np.fromfile(os.path.join(d, 'x.f32'), dtype=np.float32).reshape(batches, batch, shape[0]))
labels = torch.from_numpy(np.fromfile(os.path.join(d, 'labels.i32'), dtype=np.int32).astype(np.int64).reshape(batches, batch))

mods = []
for i, files in enumerate(job['layers']):
    lin = torch.nn.Linear(shape[i], shape[i + 1])
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(np.fromfile(os.path.join(d, files['w']), dtype=np.float32).reshape(shape[i + 1], shape[i])))
        lin.bias.copy_(torch.from_numpy(np.fromfile(os.path.join(d, files['b']), dtype=np.float32)))
    mods.append(lin)
    if i + 2 < len(shape):
        mods.append(torch.nn.ReLU())
model = torch.nn.Sequential(*mods)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
xs = [x[k] for k in range(batches)]
ys = [labels[k] for k in range(batches)]


def step(k):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xs[k]), ys[k])
    loss.backward()
    opt.step()
    return loss.item()


now = lambda: time.perf_counter() * 1e3  # ms

# Correctness: checkSteps steps on batch 0 from the initial weights (the first one is the first call).
check = []
t0 = now()
check.append(step(0))
first_ms = now() - t0
for _ in range(job['checkSteps'] - 1):
    check.append(step(0))

budget = job['budget']
counter = [0]
last = [check[-1]]


def run_reps(reps):
    t = now()
    for _ in range(reps):
        last[0] = step(counter[0] % batches)
        counter[0] += 1
    return now() - t


if budget.get('firstOnlyMs') and first_ms >= budget['firstOnlyMs']:
    samples, reps = [first_ms], 1
else:
    reps, per_call, spent, calls = 1, first_ms, first_ms, 1
    while spent < budget['warmupMs'] or calls < budget['warmupCalls']:
        dt = run_reps(reps)
        spent += dt
        calls += reps
        per_call = min(per_call, dt / reps)
        if dt < budget['targetSampleMs'] / 4:
            reps *= 2
    reps = max(1, round(budget['targetSampleMs'] / max(per_call, 1e-6)))
    samples = []
    start = now()
    while now() - start < budget['budgetMs'] or len(samples) < budget['minSamples']:
        samples.append(run_reps(reps) / reps)

print(json.dumps({
    'version': torch.__version__, 'threads': torch.get_num_threads(),
    'interopThreads': torch.get_num_interop_threads(),
    'checkLosses': check, 'firstMs': first_ms, 'samplesMs': samples, 'reps': reps, 'lastLoss': last[0],
}))
