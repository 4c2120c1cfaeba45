"""`run.py model`: moved here by the split of analysis/churn_model.py."""
from analysis.churn_model import main  # noqa: F401
