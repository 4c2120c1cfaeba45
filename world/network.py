"""Home internet: congestion by hour and weekday, and what it does to a session's connection.

A session's connection score is the tutor's setup plus the student's setup plus noise, minus the
network load at that hour (evenings are congested, weekends less so). Thresholds cut the score
into Poor / Fair / Good / Excellent; a worse connection makes technical issues more likely.
"""
from __future__ import annotations

from world.events import CONNECTION


class Network:
    def __init__(self, cfg):
        self.load_weekday = [cfg.load_by_hour.get(h, 0.0) for h in range(24)]
        self.weekend_load = cfg.weekend_load
        self.noise_sd = cfg.noise_sd
        self.jitter = cfg.jitter_per_load
        self.t_poor, self.t_fair, self.t_good = cfg.thresholds
        self.tech_issue_prob = [cfg.tech_issue_prob[c] for c in CONNECTION]
        self.sd_at_load: dict[float, float] = {}     # the noise's sd at each load (a few dozen loads)

    def load(self, hour: int, weekend: bool) -> float:
        return self.weekend_load if weekend else self.load_weekday[hour]

    def connection(self, tutor_setup: float, student_setup: float, load: float, z: float) -> int:
        """Index into CONNECTION (0 = Excellent ... 3 = Poor); `z`: the session's standard normal
        draw for the connection noise."""
        sd = self.sd_at_load.get(load)
        if sd is None:
            sd = self.sd_at_load[load] = self._sd(load)
        score = tutor_setup + student_setup + sd * z - load
        if score >= self.t_good:
            return 0
        if score >= self.t_fair:
            return 1
        if score >= self.t_poor:
            return 2
        return 3

    def _sd(self, load: float) -> float:
        """The connection noise's sd: jitter grows with the load."""
        sd = self.noise_sd
        if load > 0.0:
            sd = (sd * sd + (self.jitter * load) ** 2) ** 0.5
        return sd
