// THE ABI: every kernel the TypeScript side may call. Pointers are byte offsets into linear memory,
// sizes are element counts. Kernels never allocate, never call out, and write only their outputs.

export { activate_f32, activation_backward_f32 } from './activation_dispatch';
export { prelu_f32, prelu_backward_f32 } from './activations';
export { softmax_f32, log_softmax_f32 } from './softmax';
export { pack_weights_f32, packed_size_f32, dense_f32 } from './gemm';
export { model_forward_f32, affine_f32 } from './model';
export { first_nonfinite_f32 } from './check';
export { dense_backward_f32, dense_backward_params_f32 } from './gemm_backward';
export {
  softmax_cross_entropy_f32, softmax_cross_entropy_probs_f32, sigmoid_binary_cross_entropy_f32, mse_f32, mae_f32,
} from './loss';
export { sgd_f32, adam_f32, adamw_f32, rmsprop_f32, sum_squares_f32, scale_f32 } from './optim';
export { dropout_f32 } from './dropout';

/** First byte the TypeScript arena may use (everything below holds static data). */
export function heap_base(): usize {
  return __heap_base;
}
