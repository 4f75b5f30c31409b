"""What the stages write and read back: atomic artifacts, run folders, submission files,
reports and plots, paths, and the Kaggle upload."""
