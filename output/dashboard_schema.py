"""The tutor-quality dashboard's PostgreSQL tables, as the interface facts describe them
(docs/dashboard.md), and the deterministic ids.

`TABLES` lists the seven tables in loading order (every table after the tables it refers to):
columns with their type, NOT NULL and default, the key an upsert matches rows on (the table's
unique key: `tutor_id`, `session_id`, ..., or `id` where the id is the key), and the foreign keys.
`ddl()` writes CREATE TABLE / CREATE UNIQUE INDEX ... IF NOT EXISTS for them, named the way the
dashboard's own migration (Prisma) names them (`tutors_pkey`, `tutors_tutor_id_key`,
`sessions_tutor_id_fkey`), so a database the dashboard already created is used as it is.

Ids: `row_id(table, *key)` is "c" + 25 base-36 digits (a cuid's shape and length) of the first
128 bits of SHA-256("tutorsim|table|key..."): the same natural key always gets the same id, so a
re-import finds its rows again. experiments.id and interventions.id are the CSV's experiment_id
and intervention_id, as the dashboard's importer has them.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

SQL_TYPES = {"text": "TEXT", "int": "INTEGER", "float": "DOUBLE PRECISION", "bool": "BOOLEAN",
             "ts": "TIMESTAMP(3)", "json": "JSONB"}
DEFAULTS = {"now": "CURRENT_TIMESTAMP", "email": "'email'", "pending": "'pending'", "draft": "'draft'"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str                    # text, int, float, bool, ts, json
    nullable: bool = True
    default: str | None = None   # a key of DEFAULTS


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]                                 # what an upsert matches rows on (unique)
    unique: tuple[tuple[str, ...], ...] = ()             # unique indexes besides the primary key
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (column, table, column)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _cols(spec: str) -> tuple[Column, ...]:
    """'name:kind name:kind! name:kind!=default ...' (! = NOT NULL); every table starts with id."""
    out = [Column("id", "text", nullable=False)]
    for item in spec.split():
        name, kind = item.split(":")
        kind, _, default = kind.partition("=")
        out.append(Column(name, kind.rstrip("!"), nullable=not kind.endswith("!"), default=default or None))
    return tuple(out)


TUTOR = ("tutor_id", "tutors", "tutor_id")

TABLES: tuple[Table, ...] = (
    Table("tutors", _cols(
        "tutor_id:text! months_experience:int! total_sessions_completed:int! avg_historical_rating:float! "
        "subjects_taught:text! primary_subject:text! reschedule_rate:float! no_show_count:int! "
        "reliability_score:float! certification_level:text! active_status:bool! last_login:ts "
        "createdAt:ts!=now updatedAt:ts!"), ("tutor_id",), (("tutor_id",),)),
    Table("experiments", _cols(
        "name:text! hypothesis:text! description:text variants:json! target_segment:json primary_metric:text! "
        "secondary_metrics:json start_date:ts! end_date:ts status:text!=draft sample_size:int "
        "significance:float winner:text notes:text created_at:ts!=now updated_at:ts!"), ("id",), (("name",),)),
    Table("sessions", _cols(
        "session_id:text! tutor_id:text! session_datetime:ts! scheduled_duration_min:int! "
        "actual_duration_min:int! subject:text! grade_level:text! is_first_session:bool "
        "session_completed:bool! student_showed:bool! tutor_showed:bool! connection_quality:text! "
        "had_technical_issues:bool student_attention_pct:float tutor_camera_on_pct:float "
        "tutor_speak_ratio:float screen_share_pct:float overall_sentiment:float student_sentiment:float "
        "tutor_sentiment:float empathy_score:float clarity_score:float engagement_score:float "
        "student_rating:float student_satisfaction:float would_recommend:bool"),
        ("session_id",), (("session_id",),), (TUTOR,)),
    Table("tutor_aggregates", _cols(
        "tutor_id:text! total_sessions_30d:int! total_sessions_7d:int! avg_rating_30d:float! avg_rating_7d:float "
        "avg_engagement_score:float! avg_empathy_score:float! avg_clarity_score:float! "
        "avg_student_satisfaction:float! first_session_count:int! first_session_avg_rating:float "
        "poor_first_session_flag:bool! recommendation_rate:float! technical_issue_rate:float! "
        "sentiment_trend_7d:float churn_probability:float! churn_risk_level:text! churn_signals_detected:int! "
        "last_calculated:ts!=now"), ("tutor_id",), (("tutor_id",),), (TUTOR,)),
    Table("interventions", _cols(
        "tutor_id:text! intervention_type:text! channel:text!=email subject:text content:text! template_id:text "
        "experiment_id:text experiment_variant:text sent_at:ts delivered_at:ts opened_at:ts clicked_at:ts "
        "responded_at:ts response_type:text response_notes:text engagement_before:float engagement_after:float "
        "sessions_before_count:int sessions_after_count:int status:text!=pending error_message:text "
        "created_at:ts!=now updated_at:ts! campaign_id:text"), ("id",), (), (TUTOR,)),
    Table("engagement_events", _cols(
        "tutor_id:text! event_type:text! event_data:json timestamp:ts!=now"), ("id",), (), (TUTOR,)),
    Table("experiment_assignments", _cols(
        "experiment_id:text! tutor_id:text! variant:text! assigned_at:ts!=now exposed_at:ts converted_at:ts "
        "conversion_value:float"), ("experiment_id", "tutor_id"), (("experiment_id", "tutor_id"),),
        (("experiment_id", "experiments", "id"), TUTOR)),
)
BY_NAME = {t.name: t for t in TABLES}


def q(name: str) -> str:
    """A quoted identifier ("createdAt" keeps its capitals)."""
    return '"' + name.replace('"', '""') + '"'


def ddl() -> list[str]:
    """CREATE TABLE / CREATE UNIQUE INDEX statements (IF NOT EXISTS), in loading order."""
    out = []
    for t in TABLES:
        lines = []
        for c in t.columns:
            line = f"    {q(c.name)} {SQL_TYPES[c.kind]}"
            if not c.nullable:
                line += " NOT NULL"
            if c.default:
                line += f" DEFAULT {DEFAULTS[c.default]}"
            lines.append(line)
        lines.append(f"    CONSTRAINT {q(t.name + '_pkey')} PRIMARY KEY ({q('id')})")
        for col, ref_table, ref_col in t.foreign_keys:
            lines.append(f"    CONSTRAINT {q(f'{t.name}_{col}_fkey')} FOREIGN KEY ({q(col)}) REFERENCES "
                         f"{q(ref_table)} ({q(ref_col)}) ON DELETE RESTRICT ON UPDATE CASCADE")
        out.append(f"CREATE TABLE IF NOT EXISTS {q(t.name)} (\n" + ",\n".join(lines) + "\n)")
        for cols in t.unique:
            out.append(f"CREATE UNIQUE INDEX IF NOT EXISTS {q('_'.join((t.name, *cols, 'key')))} "
                       f"ON {q(t.name)} ({', '.join(map(q, cols))})")
    # in the application's data model but not in its first migration (its schema push adds it)
    out.append('ALTER TABLE "interventions" ADD COLUMN IF NOT EXISTS "campaign_id" TEXT')
    return out


# the order --clear empties them in: every table before the tables it refers to
CLEAR_ORDER = tuple(t.name for t in reversed(TABLES))

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@functools.lru_cache(maxsize=1 << 17)     # a live run sends the same keys every batch
def row_id(table: str, *key: str) -> str:
    """A cuid-shaped id ("c" + 25 base-36 digits) derived from the table and the natural key."""
    n = int.from_bytes(hashlib.sha256("|".join(("tutorsim", table, *key)).encode()).digest()[:16], "big")
    digits = []
    for _ in range(25):                      # 36**25 > 2**128: every 128-bit number fits
        n, r = divmod(n, 36)
        digits.append(_DIGITS[r])
    return "c" + "".join(reversed(digits))
