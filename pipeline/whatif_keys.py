"""The scenario keys every what-if run sets itself (pipeline/replications.py `run_task`): the seed
(from --seed), the churn model (off) and the event log (on only for kept runs). The commands
refuse a --set of them rather than drop it. A module of its own so that the commands can check
arguments without importing the simulation."""
WHATIF_KEYS = ("seed", "outputs.model", "outputs.event_log")
