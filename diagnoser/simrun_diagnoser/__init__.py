"""simrun's reference diagnoser: features of a window of records that do
not depend on switch names or on the size of the network, a random forest
(scikit-learn) trained on recorded runs and kept as JSON, and a server of
simrun's window API (docs/diagnosers.md)."""
