// Package tree owns the Hoeffding trees: HoeffdingTreeClassifier,
// HoeffdingAdaptiveTreeClassifier and HoeffdingTreeRegressor, registered
// under their TurboML names by Register.
//
// # Fidelity to River
//
// The trees follow River 0.26.1 (river.tree) operation by operation, so
// that on the same stream they make the same predictions; the parity
// harness (core/ml/parity) checks this against River itself. What is
// reproduced:
//
//   - Learning: the leaf is found by walking the branches (x <= threshold
//     goes left; a missing numeric value, NaN, follows the child with the
//     most weight, left on ties; a category without a branch grows a new
//     leaf at a multiway branch). Adaptive naive Bayes leaves score their
//     majority-class and naive Bayes guesses before updating. A split is
//     attempted when the weight seen since the last attempt reaches
//     grace_period.
//   - Splitting: one candidate per feature in the order the leaf first saw
//     the features, after a null split at −∞ (merit pre-pruning); the best
//     and second best come from a stable ascending sort (the later one wins
//     ties); ε = sqrt(R²·ln(1/δ)/(2n)) with R = log2(max(#classes in the
//     leaf, 2)) for info gain and Hellinger and 1 for Gini, n the leaf's
//     weight; split when best − second > ε or ε < τ. A winning candidate
//     without a feature deactivates the leaf; after any positive decision
//     the memory manager runs, which (before the first size estimate)
//     re-activates every inactive leaf with fresh splitters.
//   - When the majority class holds more than max_share_to_split (0.99 by
//     default) of a leaf, only the null split is offered. On heavily
//     imbalanced data (fraud: well under 1% positives) a tree with River's
//     defaults therefore never splits; set max_share_to_split to 1.0 to let
//     it grow (the fraud configurations do).
//   - Numeric features: per class a Gaussian (weighted Welford mean and
//     variance, ddof 1) with min and max; n_splits (10) equally spaced
//     thresholds strictly inside [min, max], the first best kept; children
//     start with the estimated (fractional) class weights.
//   - Categorical features: a multiway split (one branch per value seen,
//     ascending), replaced by a one-vs-rest binary split only if strictly
//     better.
//   - Criteria: Gini, information gain (log2 entropy) and River's Hellinger
//     distance (classes 0 and 1 of the first two branches); a split where
//     fewer than two branches hold more than min_branch_fraction (1%) of
//     the weight scores −∞.
//   - Naive Bayes in log space: log prior plus, per feature with a
//     splitter, the Gaussian log-density (skipped when the variance is 0)
//     or log P(value|class) (skipped when 0); then log-sum-exp.
//   - Predictions: probabilities normalised by multiplying with 1/sum;
//     the predicted class is the first maximum among the classes seen so
//     far in ascending order.
//   - Insertion order of Python dicts (class weights, splitters, Gaussian
//     per-class estimators) is kept with ordered slices, so ties break and
//     sums add up in River's order.
//
// # Hoeffding adaptive tree
//
// HoeffdingAdaptiveTreeClassifier follows River's HATC: an ADWIN detector
// (core/ml/drift, bit-identical to River's) and a running error mean at
// every node; Poisson(1) bootstrap weights from a Mersenne Twister seeded
// as CPython's random.Random(seed), so a River run with the same seed
// draws the same weights. River's quirks are kept: a zero draw keeps
// weight 1, an alternate leaf that splits replaces the subtree it competes
// with at once, predictions sum every reached leaf's distribution divided
// by (its sum × its squared error rate), and the most common child of a
// branch that cannot route x is visited twice. The seed defaults to 0
// (River's None means an unseeded generator).
//
// # Hoeffding tree regressor
//
// HoeffdingTreeRegressor follows River's HTR: variance reduction (at least
// min_samples_split=5 weight per branch, else merit 0), truncated E-BST
// splitters (values rounded to one decimal exactly as Python's round),
// FIMT-DD's pruning of hopeless thresholds after a failed attempt,
// per-category statistics for categorical inputs (multiway when more than
// two values), and the split rule best > 0 and (second/best < 1 − ε or
// ε < τ). Leaves predict the target mean ("mean", TurboML's default), a
// linear model ("model": River's LinearRegression defaults, SGD at 0.01 on
// all inputs by position, categorical codes included, copied from the
// parent leaf at a split) or the better of the two by faded squared error
// ("adaptive"). Like River's, the leaf models are not scaled: feed
// standardised inputs for "model" leaves.
//
// # Documented deviations
//
//   - River tries one-vs-rest splits of a categorical feature in Python set
//     order (hash order, not reproducible for strings); Go tries them in
//     ascending value order. This only matters when two such splits tie.
//   - River's nominal splitter inserts an empty per-class map when naive
//     Bayes asks about a class it has not seen (a side effect of a
//     defaultdict). Predict never mutates a Go tree, so that (order-only)
//     side effect is not reproduced.
//   - The memory bound uses Go byte sizes where River measures Python
//     objects (first estimate after memory_estimate_period samples, 1M by
//     default); below that period the two behave identically. The
//     regressor charges every leaf its own size rather than an average.
//   - Where River raises ZeroDivisionError in the Hellinger criterion (a
//     class with zero total weight), Go scores 0.
//   - Go's math.Log, Exp, Log2 and Erf are not glibc's: on random inputs
//     they differ in the last bit for about 8%, 14%, 23% and 2% of
//     arguments. Probabilities then differ by ~1e-15; rarely, a last-bit
//     difference in a leaf's fractional initial weight or in a merit tips
//     a grace-period or split decision the other way and the trees part
//     (HoeffdingTreeClassifier on 100,000 RandomRBFDrift rows with gini and
//     naive Bayes leaves: 99.98% identical classes).
//   - Labels outside 0..n_classes-1 are ignored by Learn.
//
// Learn and Predict do not allocate in steady state: splitters are created
// with their leaves, splits reuse scratch buffers, and only new leaves and
// new categorical values allocate.
package tree
