"""foldwise: a Kaggle-competition submission kit for text classification."""

__version__ = "0.1.0"
