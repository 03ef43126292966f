// A whole model's forward pass in one call, so inference never returns to JS between layers.
//
// model_forward_f32(out, x, batch, desc, layers, bufA, bufB)
//   desc points to `layers` descriptors of 8 × i32 (32 bytes) each:
//     [0] type (0 dense, 1 activation, 2 affine)  [1] inputs K  [2] units N
//     [3] packed weights ptr (dense), or the affine layer's N factors then N offsets
//     [4] activation kind (Act)  [5] param a (f32 bits)  [6] param b (f32 bits)  [7] prelu slope ptr
//   x is [batch, K0]; out is [batch, N_last]; bufA and bufB are scratch buffers of at least
//   batch × max(N) floats each (plus arena padding). Layer i reads the previous output and writes
//   the next buffer in turn; the last layer writes `out`. Shapes are checked by the caller.
// The descriptor layout MUST MATCH src/model.ts (DESC_* constants; test/abi.test.ts checks).

import { Act, activate_f32 } from './activation_dispatch';
import { prelu_f32 } from './activations';
import { dense_f32 } from './gemm';
import { softmax_f32, log_softmax_f32 } from './softmax';

/** Apply a layer's activation in place to a [rows, cols] block when the kernel did not fuse it. */
@inline function postActivation(y: usize, rows: i32, cols: i32, kind: i32, a: f32, b: f32, slope: usize, fused: bool): void {
  if (kind == Act.Softmax) softmax_f32(y, y, rows, cols);
  else if (kind == Act.LogSoftmax) log_softmax_f32(y, y, rows, cols);
  else if (kind == Act.PRelu) prelu_f32(y, y, slope, rows * cols, cols);
  else if (!fused) activate_f32(kind, y, y, rows * cols, a, b);
}

export function model_forward_f32(out: usize, x: usize, batch: i32, desc: usize, layers: i32, bufA: usize, bufB: usize): void {
  let src = x;
  for (let i = 0; i < layers; i++) {
    const d = desc + (<usize>i << 5);
    const type = load<i32>(d);
    const K = load<i32>(d, 4);
    const N = load<i32>(d, 8);
    const packed = <usize>load<u32>(d, 12);
    const kind = load<i32>(d, 16);
    const a = load<f32>(d, 20);
    const b = load<f32>(d, 24);
    const slope = <usize>load<u32>(d, 28);
    const dst = i == layers - 1 ? out : (i & 1) == 0 ? bufA : bufB;
    if (type == 0) {
      dense_f32(dst, src, packed, batch, K, N, kind, a, b);
      postActivation(dst, batch, N, kind, a, b, slope, true);
    } else if (type == 2) {
      affine_f32(dst, src, packed, packed + (<usize>N << 2), batch, N);
      if (kind != Act.Linear) postActivation(dst, batch, N, kind, a, b, slope, false);
    } else {
      if (kind == Act.Softmax || kind == Act.LogSoftmax || kind == Act.PRelu) {
        postActivation(src == dst ? dst : copyTo(dst, src, batch * N), batch, N, kind, a, b, slope, false);
      } else {
        activate_f32(kind, dst, src, batch * N, a, b);
      }
    }
    src = dst;
  }
}

@inline function copyTo(dst: usize, src: usize, n: i32): usize {
  memory.copy(dst, src, <usize>n << 2);
  return dst;
}

/**
 * y[r][k] = x[r][k]·scale[k] + shift[k] for `rows` rows of `cols` features (a batch normalisation
 * with its statistics folded into one factor and one offset per feature). A multiply then an add,
 * never fused, so both binaries give the same bits. dst may equal src.
 */
export function affine_f32(dst: usize, src: usize, scale: usize, shift: usize, rows: i32, cols: i32): void {
  const vecEnd = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const row = <usize>r * <usize>cols << 2;
    const x = src + row;
    const y = dst + row;
    let k = 0;
    for (; k < vecEnd; k += 4) {
      const o = <usize>k << 2;
      v128.store(y + o, f32x4.add(f32x4.mul(v128.load(x + o), v128.load(scale + o)), v128.load(shift + o)));
    }
    for (; k < cols; k++) {
      const o = <usize>k << 2;
      store<f32>(y + o, load<f32>(x + o) * load<f32>(scale + o) + load<f32>(shift + o));
    }
  }
}
