"""What a student decides after a session, as the codes the event log stores."""

ACTIONS = ("continue", "switch", "leave", "done")
CONTINUE, SWITCH, LEAVE, DONE = range(len(ACTIONS))
