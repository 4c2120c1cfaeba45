"""What the platform's video and transcript analysis sees in a held session.

Each observable is produced by the people in the session and its conditions: the student's
attentiveness and the tutor's skill make attention; the tutor's speaking habit and the student's
attention make the speak ratio; the tutor's empathy and clarity are what the NLP scores measure;
the network at that hour makes the connection; the student's perception makes the rating.
"""
from __future__ import annotations

from world.events import CONNECTION
from world.formulas import engagement_score_scalar


class Observer:
    def __init__(self, model):
        sc = model.settings
        self.b = model.behaviour
        self.ref = model.behaviour.reference
        self.width = sc.platform.speak_balance_width
        self.calendar = model.calendar
        self.network = model.network
        # the network's load in each hour of the week, counted from the simulation's first day
        cal = self.calendar
        self.week_load = [self.network.load(i % 24, cal.is_weekend_day(i // 24)) for i in range(7 * 24)]
        self.att_conn = [self.b.attention_connection_penalty[c] for c in CONNECTION]
        self.screen_subject = dict(self.b.screen_share_subject)

    def observe(self, s, t: float, burnout: float, reliability: float) -> tuple:
        """The session_observed row for session `s` held at time `t`, by a tutor at this burnout
        and reliability today."""
        b, ref = self.b, self.ref
        tutor, student = s.tutor, s.student
        rng = tutor.session_stream
        # the session's standard normal noise, in this order (the tutor's batched stream)
        (z_attention, z_speak, z_camera, z_screen, z_duration, z_empathy, z_clarity, z_quality,
         z_tutor_sent, z_student_sent, z_overall, z_connection, z_rating,
         z_satisfaction) = tutor.session_noise.take(14)
        network = self.network
        load = self.week_load[int(t // 60) % (7 * 24)]
        conn = network.connection(tutor.tech_setup, student.tech_setup, load, z_connection)
        tech = rng.random() < network.tech_issue_prob[conn]

        # what the camera and the microphone see (each clipped to the range the analysis reports)
        x = (student.attention + b.attention_tutor_weight * (tutor.skill - ref.skill)
             + self.att_conn[conn] + b.attention_noise_sd * z_attention)
        attention = 10.0 if x < 10.0 else 100.0 if x > 100.0 else x
        x = (tutor.speak_style + b.speak_burnout_shift * burnout
             + b.speak_attention_weight * (ref.attention - attention) / 100.0 + b.speak_noise_sd * z_speak)
        speak = 0.20 if x < 0.20 else 0.80 if x > 0.80 else x
        x = (100.0 * tutor.camera_habit + b.camera_noise_sd * z_camera
             - (b.camera_tech_issue_penalty if tech else 0.0))
        camera = 70.0 if x < 70.0 else 100.0 if x > 100.0 else x
        x = self.screen_subject[student.subject] + tutor.screen_share_habit + b.screen_share_noise_sd * z_screen
        screen = 10.0 if x < 10.0 else 95.0 if x > 95.0 else x
        x = round(s.duration * (1.0 + b.duration_noise_sd * z_duration - (b.duration_tech_issue_cut if tech else 0.0)))
        duration = int(25 if x < 25 else 105 if x > 105 else x)

        # what the transcript analysis scores
        x = tutor.empathy * (1.0 - b.empathy_burnout_cut * burnout) + b.empathy_noise_sd * z_empathy
        empathy = 1.0 if x < 1.0 else 10.0 if x > 10.0 else x
        x = tutor.clarity + b.clarity_noise_sd * z_clarity
        clarity = 1.0 if x < 1.0 else 10.0 if x > 10.0 else x

        # how good the session was for this student, and how they judge it
        quality = (b.quality_skill_weight * tutor.skill * (1.0 - b.quality_burnout_penalty * burnout)
                   + b.quality_empathy_weight * (empathy - ref.empathy)
                   + b.quality_clarity_weight * (clarity - ref.clarity)
                   + b.quality_attention_weight * (attention - ref.attention) / 10.0
                   + b.quality_camera_weight * (camera - ref.camera) / 10.0
                   + b.quality_noise_sd * z_quality)
        rating, satisfaction, recommend = student.rate(quality, empathy, s.first, conn, tech, reliability,
                                                       z_rating, z_satisfaction)

        x = (b.sentiment_tutor_base + b.sentiment_tutor_empathy_weight * (tutor.empathy - ref.empathy)
             - b.sentiment_tutor_burnout_weight * burnout + b.sentiment_tutor_noise_sd * z_tutor_sent)
        tutor_sent = -0.2 if x < -0.2 else 0.95 if x > 0.95 else x
        x = (b.sentiment_student_base + b.sentiment_student_rating_weight * (rating - ref.rating)
             + b.sentiment_student_noise_sd * z_student_sent)
        student_sent = -0.5 if x < -0.5 else 0.95 if x > 0.95 else x
        mix = b.sentiment_overall_mix
        x = (mix * student_sent + (1.0 - mix) * tutor_sent + b.sentiment_overall_base
             + b.sentiment_overall_noise_sd * z_overall)
        overall = -0.5 if x < -0.5 else 0.95 if x > 0.95 else x
        engagement = engagement_score_scalar(attention, speak, overall, self.width)
        return (t + duration, s.sid, duration, conn, load, tech, attention, camera, speak, screen,
                overall, student_sent, tutor_sent, empathy, clarity, engagement, quality, rating,
                satisfaction, recommend)
