// Package surrogate fits regressors that predict a measure (latency, energy
// or peak power per sequence) of a transformer architecture on one profiling
// target, with an uncertainty for every prediction.
//
// # Models
//
// Five regressors share one contract: fit on rows of features and positive
// targets, predict a mean and a standard deviation for one row.
//
//   - Linear: non-negative least squares of the measure on per-operation-class
//     cost features (multiply-accumulates of dense layers, attention, linear
//     transforms and convolutions, element-wise work, parameters, layer and
//     head counts), weighted for relative error. Latency on one device is
//     close to Σ_c MACs_c / throughput_c plus per-kernel overheads, which this
//     model states directly.
//   - Hybrid: the linear model times a multiplicative correction exp(r(x)),
//     where r is a Gaussian process fitted to log(y / linear(x)).
//   - GBDT: gradient-boosted regression trees with histogram splits,
//     shrinkage and row subsampling; the uncertainty combines the spread of
//     independently seeded boosters with their out-of-bag residual.
//   - GP: Gaussian-process regression with an ARD squared-exponential plus
//     linear kernel on standardised features; hyperparameters maximise the
//     log marginal likelihood (L-BFGS with analytic gradients and restarts).
//   - Paper: the published EdgeTran baseline, AdaBoost.R2 (Drucker 1997,
//     linear loss, weighted-median prediction) over 500 depth-unlimited
//     regression trees on the raw 37-number embedding, with targets divided
//     by the training maximum and the spread of the trees as uncertainty.
//
// A Predictor bundles a fitted regressor with its feature set and target
// transform, predicts from an arch.Architecture, and saves to a versioned
// JSON file. A Registry keeps one Predictor per target and measure and
// refits it, debounced, when new measurements arrive.
//
// # Measures of fit
//
// Evaluate and CrossValidate report the share of predictions within ±10% and
// ±5% of the measured value, the mean absolute percentage error, the
// normalised mean squared error of the EdgeTran paper (targets divided by the
// training maximum), Spearman's ρ, Kendall's τ, and the share of measured
// values inside the predicted mean ±1σ and ±2σ.
package surrogate
