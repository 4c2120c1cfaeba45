"""`run.py trace`: moved here by the split of analysis/trace.py."""
from analysis.trace import main  # noqa: F401
