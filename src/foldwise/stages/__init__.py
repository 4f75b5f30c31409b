"""The stages the Makefile runs: cross-validated training (cv), tuning, ensembling into a
submission (make_submission), predicting new text, and the benchmarks."""
