// Package metric owns the streaming evaluation metrics of deployed models:
// windowed AUC, accuracy, precision, recall, F1, MAE, MSE and RMSE over the
// last W (prediction, label) pairs, and Series, the bounded history of a
// metric's values that model evaluations are read from.
//
// A deployed model predicts each row, then learns when the row's label
// arrives; at that moment the runtime feeds the pair to every metric of the
// model (Metric.Update) and records Metric.Value in the metric's Series under
// the sample's number. That is TurboML's get_evaluation surface: one value
// per labeled sample, index = sample number.
//
// Every metric is exact over its window and costs O(1) per update, except
// WindowedAUC, which costs O(log W): it keeps the window's distinct scores in
// an order-statistic tree with per-class counts and maintains the
// Mann–Whitney U statistic as an integer, so it never re-sorts the window.
// Once a window is full, updates allocate nothing.
//
// Metrics encode their full state (MarshalBinary) so that the runtime can
// snapshot and restore them with the model; Decode rebuilds a metric from its
// encoding alone.
package metric
