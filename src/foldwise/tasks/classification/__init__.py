"""Task kinds multilabel, multiclass and binary: a label (or labels) per row, predicted as
probabilities, decided by cuts, argmax or calibration fit on OOF."""
