"""`run.py calibrate`: moved here by the split of analysis/calibrate.py."""
from analysis.calibrate import main  # noqa: F401
