// Optimizer steps as flat SIMD loops over parallel slabs (llm.c's gpt2_update): param, its state
// and its gradient are n floats each, at the same index. The kernels are stateless: step counts and
// bias corrections are arguments, computed in float64 by the caller. Hyperparameters are f64 and
// rounded to float32 once, as PyTorch rounds its Python-float scalars; the arithmetic is float32.
// Semantics are PyTorch's torch.optim (not Keras', which differs where noted).
//
// sgd_f32(param, buf, grad, n, lr, momentum, dampening, weight_decay, nesterov, zero_grad)
//   g = grad + weight_decay·p                      (L2, when weight_decay ≠ 0)
//   if momentum ≠ 0: b = momentum·b + (1 − dampening)·g;  g = nesterov ? g + momentum·b : b
//   p = p − lr·g
//   PyTorch starts the buffer at b = g on step 1: pass a zeroed buf and dampening = 0 on step 1.
//   buf is not touched when momentum = 0 (pass 0). (Keras' SGD folds lr into the buffer.)
// adam_f32(param, m, v, grad, n, lr, beta1, beta2, eps, weight_decay, bias_correction1,
//          bias_correction2, zero_grad)                        torch.optim.Adam (amsgrad=False)
//   g = grad + weight_decay·p;  m = m + (1 − β1)(g − m);  v = β2·v + (1 − β2)·g²
//   p = p − (lr / bc1) · m / (√v / √bc2 + eps),   bc1 = 1 − β1^t, bc2 = 1 − β2^t (t = 1, 2, …)
//   eps is added outside the square root, after the bias correction (Keras adds its eps, 1e-7 by
//   default, to √v before correcting: a different effective eps).
// adamw_f32(same arguments)                                    torch.optim.AdamW
//   p = p·(1 − lr·weight_decay) first (decoupled decay), then the Adam step with no L2 term.
// rmsprop_f32(param, square_avg, grad_avg, buf, grad, n, lr, alpha, eps, weight_decay, momentum,
//             zero_grad)                                       torch.optim.RMSprop
//   g = grad + weight_decay·p;  s = α·s + (1 − α)·g²
//   centered (grad_avg ≠ 0): a = a + (1 − α)(g − a);  d = √(s − a²) + eps;  else d = √s + eps
//   momentum > 0: b = momentum·b + g/d;  p = p − lr·b;   else p = p − lr·g/d
//   eps after the square root (PyTorch defaults α = 0.99, eps = 1e-8; Keras uses rho = 0.9 and adds
//   its eps inside the root). grad_avg = 0: not centered; buf unused (pass 0) when momentum = 0.
// zero_grad ≠ 0: the kernel also sets grad to zero after reading it (saves the caller a pass).
//
// sum_squares_f32(x, n): f64 — Σ x², each square exact in float64 (24-bit × 24-bit) and summed in
//   float64: the global norm for gradient clipping is √(Σ over slabs), computed by the caller
//   (PyTorch clip_grad_norm_: scale = max_norm / (norm + 1e-6) when it is below 1).
// scale_f32(out, inp, s, n): out = s·inp (out may equal inp).
//
// Contract for every kernel here: n ≥ 0 floats per slab, any 4-byte-aligned pointers, slabs read up
// to the next multiple of 4 floats (the arena's padding; the tail is one full-vector load), written
// exactly (lane stores). Slabs must not overlap each other (in place per slab). NaN in a gradient
// or state element gives NaN in that parameter only; lanes never mix.

import { madd } from './math';
import { highF64, lowF64, storeFirst, sumF64, firstLanes } from './lanes';

@inline function put(ptr: usize, v: v128, lanes: i32): void {
  if (lanes >= 4) v128.store(ptr, v);
  else storeFirst(ptr, v, lanes);
}

// ---------------------------------------------------------------------------------------------
// SGD

@inline function sgdAt(
  o: usize, lanes: i32, param: usize, buf: usize, grad: usize,
  lr: v128, mu: v128, damp: v128, wd: v128, useWd: bool, useMomentum: bool, nesterov: bool, zeroGrad: bool,
): void {
  const p = v128.load(param + o);
  let g = v128.load(grad + o);
  if (useWd) g = madd(p, wd, g);
  if (useMomentum) {
    const b = madd(g, damp, f32x4.mul(v128.load(buf + o), mu));
    put(buf + o, b, lanes);
    g = nesterov ? madd(b, mu, g) : b;
  }
  put(param + o, madd(g, lr, p), lanes); // lr is −lr
  if (zeroGrad) put(grad + o, f32x4.splat(0), lanes);
}

export function sgd_f32(
  param: usize, buf: usize, grad: usize, n: i32,
  lr: f64, momentum: f64, dampening: f64, weight_decay: f64, nesterov: i32, zero_grad: i32,
): void {
  const negLr = f32x4.splat(<f32>-lr);
  const mu = f32x4.splat(<f32>momentum);
  const damp = f32x4.splat(<f32>(1.0 - dampening));
  const wd = f32x4.splat(<f32>weight_decay);
  const useWd = weight_decay != 0;
  const useMomentum = momentum != 0;
  const nest = nesterov != 0;
  const zero = zero_grad != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) sgdAt(<usize>i << 2, 4, param, buf, grad, negLr, mu, damp, wd, useWd, useMomentum, nest, zero);
  if (i < n) sgdAt(<usize>i << 2, n - i, param, buf, grad, negLr, mu, damp, wd, useWd, useMomentum, nest, zero);
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW

@inline function adamAt(
  o: usize, lanes: i32, param: usize, m: usize, v: usize, grad: usize,
  step: v128, w1: v128, b2: v128, w2: v128, eps: v128, invBc2: v128, wd: v128, decay: v128,
  useWd: bool, zeroGrad: bool,
): void {
  const p = f32x4.mul(v128.load(param + o), decay); // AdamW's decoupled decay (decay = 1: exact)
  let g = v128.load(grad + o);
  if (useWd) g = madd(p, wd, g);
  const m0 = v128.load(m + o);
  const mt = madd(f32x4.sub(g, m0), w1, m0); // lerp(m, g, 1 − β1)
  const vt = madd(f32x4.mul(g, w2), g, f32x4.mul(v128.load(v + o), b2));
  const d = madd(f32x4.sqrt(vt), invBc2, eps);
  put(m + o, mt, lanes);
  put(v + o, vt, lanes);
  put(param + o, madd(f32x4.div(mt, d), step, p), lanes); // step is −lr/bc1
  if (zeroGrad) put(grad + o, f32x4.splat(0), lanes);
}

/** Both Adam variants: wd is the L2 coefficient (Adam) and decay the factor 1 − lr·wd (AdamW). */
function adamLoop(
  param: usize, m: usize, v: usize, grad: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, l2: f64, decay: f64, bc1: f64, bc2: f64, zero_grad: i32,
): void {
  const step = f32x4.splat(<f32>(-lr / bc1));
  const w1 = f32x4.splat(<f32>(1.0 - beta1));
  const b2 = f32x4.splat(<f32>beta2);
  const w2 = f32x4.splat(<f32>(1.0 - beta2));
  const ev = f32x4.splat(<f32>eps);
  const invBc2 = f32x4.splat(<f32>(1.0 / Math.sqrt(bc2)));
  const wd = f32x4.splat(<f32>l2);
  const dv = f32x4.splat(<f32>decay);
  const useWd = l2 != 0;
  const zero = zero_grad != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) adamAt(<usize>i << 2, 4, param, m, v, grad, step, w1, b2, w2, ev, invBc2, wd, dv, useWd, zero);
  if (i < n) adamAt(<usize>i << 2, n - i, param, m, v, grad, step, w1, b2, w2, ev, invBc2, wd, dv, useWd, zero);
}

export function adam_f32(
  param: usize, m: usize, v: usize, grad: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, bias_correction1: f64, bias_correction2: f64, zero_grad: i32,
): void {
  adamLoop(param, m, v, grad, n, lr, beta1, beta2, eps, weight_decay, 1.0, bias_correction1, bias_correction2, zero_grad);
}

export function adamw_f32(
  param: usize, m: usize, v: usize, grad: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, bias_correction1: f64, bias_correction2: f64, zero_grad: i32,
): void {
  adamLoop(param, m, v, grad, n, lr, beta1, beta2, eps, 0, 1.0 - lr * weight_decay, bias_correction1, bias_correction2, zero_grad);
}

// ---------------------------------------------------------------------------------------------
// RMSProp

@inline function rmspropAt(
  o: usize, lanes: i32, param: usize, sq: usize, ga: usize, buf: usize, grad: usize,
  lr: v128, alpha: v128, w: v128, eps: v128, wd: v128, mu: v128,
  useWd: bool, centered: bool, useMomentum: bool, zeroGrad: bool,
): void {
  const p = v128.load(param + o);
  let g = v128.load(grad + o);
  if (useWd) g = madd(p, wd, g);
  const s = madd(f32x4.mul(g, w), g, f32x4.mul(v128.load(sq + o), alpha));
  put(sq + o, s, lanes);
  let var_ = s;
  if (centered) {
    const a0 = v128.load(ga + o);
    const a = madd(f32x4.sub(g, a0), w, a0); // lerp(a, g, 1 − α)
    put(ga + o, a, lanes);
    var_ = f32x4.sub(s, f32x4.mul(a, a));
  }
  const d = f32x4.add(f32x4.sqrt(var_), eps);
  if (useMomentum) {
    const b = f32x4.add(f32x4.mul(v128.load(buf + o), mu), f32x4.div(g, d));
    put(buf + o, b, lanes);
    put(param + o, madd(b, lr, p), lanes); // lr is −lr
  } else {
    put(param + o, madd(f32x4.div(g, d), lr, p), lanes);
  }
  if (zeroGrad) put(grad + o, f32x4.splat(0), lanes);
}

export function rmsprop_f32(
  param: usize, square_avg: usize, grad_avg: usize, buf: usize, grad: usize, n: i32,
  lr: f64, alpha: f64, eps: f64, weight_decay: f64, momentum: f64, zero_grad: i32,
): void {
  const negLr = f32x4.splat(<f32>-lr);
  const av = f32x4.splat(<f32>alpha);
  const w = f32x4.splat(<f32>(1.0 - alpha));
  const ev = f32x4.splat(<f32>eps);
  const wd = f32x4.splat(<f32>weight_decay);
  const mu = f32x4.splat(<f32>momentum);
  const useWd = weight_decay != 0;
  const centered = grad_avg != 0;
  const useMomentum = momentum > 0;
  const zero = zero_grad != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    rmspropAt(<usize>i << 2, 4, param, square_avg, grad_avg, buf, grad, negLr, av, w, ev, wd, mu, useWd, centered, useMomentum, zero);
  }
  if (i < n) {
    rmspropAt(<usize>i << 2, n - i, param, square_avg, grad_avg, buf, grad, negLr, av, w, ev, wd, mu, useWd, centered, useMomentum, zero);
  }
}

// ---------------------------------------------------------------------------------------------
// Gradient utilities

export function sum_squares_f32(x: usize, n: i32): f64 {
  // Four float64x2 chains (two vectors per iteration): the adds' latency is hidden.
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    const u = v128.load(p), w = v128.load(p, 16);
    const u0 = lowF64(u), u1 = highF64(u), w0 = lowF64(w), w1 = highF64(w);
    a0 = f64x2.add(a0, f64x2.mul(u0, u0));
    a1 = f64x2.add(a1, f64x2.mul(u1, u1));
    a2 = f64x2.add(a2, f64x2.mul(w0, w0));
    a3 = f64x2.add(a3, f64x2.mul(w1, w1));
  }
  for (; i < n; i += 4) {
    const u = v128.and(v128.load(x + (<usize>i << 2)), firstLanes(n - i, 0));
    const u0 = lowF64(u), u1 = highF64(u);
    a0 = f64x2.add(a0, f64x2.mul(u0, u0));
    a1 = f64x2.add(a1, f64x2.mul(u1, u1));
  }
  return sumF64(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)));
}

export function scale_f32(out: usize, inp: usize, s: f64, n: i32): void {
  const k = f32x4.splat(<f32>s);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), f32x4.mul(v128.load(inp + (<usize>i << 2)), k));
  if (i < n) storeFirst(out + (<usize>i << 2), f32x4.mul(v128.load(inp + (<usize>i << 2)), k), n - i);
}
