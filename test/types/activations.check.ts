// Compile-time checks of src/activations.ts's types (no runtime: `npx tsc --noEmit -p test/types`).
// Plain lines must compile; each `// @ts-expect-error` line must fail to compile.
import type {
  ActivationAlias, ActivationName, ActivationObject, ActivationSpec, CheckedActivation, KnownActivation, ParamsOf,
} from '../../src/activations.js';

/** A generic call site as the runtime's `activate` can declare it. */
declare function activate<const S extends string | { readonly name: string }>(spec: CheckedActivation<S>): void;
/** The method form: a spelling and its own parameter object. */
declare function withParams<const N extends string>(name: CheckedActivation<N>, params: ParamsOf<N>): void;

// ---- known spellings, each framework's
activate('relu');
activate('leakyRelu');
activate('hardSigmoid'); // simdnn (ONNX semantics)
activate('HardSigmoid'); // ONNX
activate('Hardsigmoid'); // PyTorch
activate('hard_sigmoid'); // Keras (needs alpha at run time; the object form requires it, below)
activate('Hardtanh');
activate('hard_silu');
activate('logistic'); // scikit-learn
activate('identity');
activate('Softmax');
activate('log_softmax');

// ---- typos and other frameworks' names simdnn does not take
// @ts-expect-error unknown spelling
activate('sigmoud');
// @ts-expect-error case matters for literal spellings
activate('SIGMOID');
// @ts-expect-error not a spelling simdnn accepts (Keras's "sparse_plus")
activate('sparse_plus');
// @ts-expect-error Object.prototype names are not activations
activate('constructor');
// @ts-expect-error
activate('__proto__');

// ---- objects: parameters checked per spelling, with the framework's names
activate({ name: 'leakyRelu', alpha: 0.2 });
activate({ name: 'leaky_relu', negative_slope: 0.2 });
activate({ name: 'LeakyReLU', alpha: 0.3 });
activate({ name: 'Hardtanh', min_val: -2, max_val: 2 });
activate({ name: 'hardtanh', min: -2 });
activate({ name: 'hard_sigmoid', alpha: 0.2 });
activate({ name: 'softplus', beta: 2, threshold: 20 });
activate({ name: 'Softplus', beta: 0.5 });
activate({ name: 'GELU', approximate: 'tanh' });
activate({ name: 'gelu', approximate: true });
activate({ name: 'prelu', slope: [0.1, 0.2] });
activate({ name: 'PReLU', weight: 0.25 });
activate({ name: 'Threshold', threshold: 1, value: 0 });
activate({ name: 'ThresholdedReLU', theta: 0.5 });
activate({ name: 'Softmax', dim: -1 });
// @ts-expect-error misspelt parameter
activate({ name: 'leakyRelu', alfa: 0.2 });
// @ts-expect-error PyTorch's name on simdnn's spelling
activate({ name: 'leakyRelu', negative_slope: 0.2 });
// @ts-expect-error a string where a number goes
activate({ name: 'elu', alpha: '1' });
// @ts-expect-error the ambiguous spelling needs its slope
activate({ name: 'leaky_relu' });
// @ts-expect-error the ambiguous Keras spelling needs alpha
activate({ name: 'hard_sigmoid' });
// @ts-expect-error two names for one parameter
activate({ name: 'leaky_relu', negative_slope: 0.1, alpha: 0.1 });
// @ts-expect-error PyTorch's Hardsigmoid takes no parameters
activate({ name: 'Hardsigmoid', alpha: 0.2 });
// @ts-expect-error prelu needs its slope
activate({ name: 'prelu' });
// @ts-expect-error Threshold maps only with value 0
activate({ name: 'Threshold', threshold: 1, value: 2 });
// @ts-expect-error only the last axis
activate({ name: 'Softmax', dim: 1 });
// @ts-expect-error unknown spelling in an object
activate({ name: 'sigmoud' });
// @ts-expect-error a parameter name from the prototype
activate({ name: 'relu', toString: 1 });

// ---- dynamic names and JSON-imported specs: accepted, validated at run time
declare const dynamicName: string;
declare const jsonSpec: { name: string; alpha: number };
activate(dynamicName);
activate(jsonSpec);

// ---- the method form
withParams('leakyRelu', { alpha: 0.2 });
withParams('leaky_relu', { negative_slope: 0.2 });
withParams('Hardtanh', {});
withParams('softplus', { beta: 2 });
// @ts-expect-error ParamsOf<'leakyRelu'> has no negative_slope
withParams('leakyRelu', { negative_slope: 0.2 });
// @ts-expect-error ParamsOf<'leaky_relu'> requires one slope name
withParams('leaky_relu', {});
// @ts-expect-error unknown spelling
withParams('leaky_relus', {});

// ---- the union types
const specs: ActivationSpec[] = ['relu', 'Hardsigmoid', { name: 'leaky_relu', negative_slope: 0.1 }, { name: 'clip', min: 0 }];
// @ts-expect-error not a spelling
const badSpec: ActivationSpec = 'sigmoud';
// @ts-expect-error a string is not an ActivationSpec without a check at run time
const wideSpec: ActivationSpec = dynamicName;
const canonical: ActivationName = 'hardSigmoid';
// @ts-expect-error aliases are not canonical names
const notCanonical: ActivationName = 'Hardsigmoid';
const alias: ActivationAlias = 'Hardsigmoid';
// @ts-expect-error canonical names are not aliases
const notAlias: ActivationAlias = 'hardSigmoid';
const known: KnownActivation[] = [canonical, alias];
const objects: ActivationObject[] = [{ name: 'celu', alpha: 2 }, { name: 'Hardtanh', max_val: 3 }];
/** CheckedActivation keeps a union of valid specs as it is. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const unionKept: Same<CheckedActivation<ActivationSpec>, ActivationSpec> = true;
const stringKept: Same<CheckedActivation<string>, string> = true;
export { specs, badSpec, wideSpec, notCanonical, notAlias, known, objects, unionKept, stringKept };
