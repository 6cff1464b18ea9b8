"""Judging (评分与排名), free of I/O: points as centipoints, criteria, a judge's weighted total,
the trimmed mean of the judges, team scores, ties, ranks and prize tiers, and who judges what.

Every figure is exact: scores are integers of centipoints (hundredths of a point); weights are
basis points summing to 10000; intermediate values are `Fraction`s. A judge's weighted total is
on a 100-point scale: Σ score/max × weight, i.e. Σ score_cp × weight_bp / max_cp centipoints.
The final score is rounded once, half up (四舍五入), to whole centipoints — the published value —
and ranks compare published values, so anyone can check a ranking from the published sheet."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Iterable, Literal, Mapping, Sequence

from competitions.domain.contests import CONTEST_STATUSES
from unionops.problems import RuleViolation

CENTIPOINTS_PER_POINT = 100


def to_centipoints(points: Decimal, *, field: str) -> int:
    """Points with at most two decimal places, as an exact integer of hundredths."""
    try:
        if not points.is_finite():
            raise InvalidOperation
        cents = points * CENTIPOINTS_PER_POINT
        if cents != cents.to_integral_value():
            raise RuleViolation("分数最多保留两位小数", field=field)
        return int(cents)
    except InvalidOperation:
        raise RuleViolation("分数须为有限的数", field=field) from None


def judge_score(score: Decimal, max_score: Decimal) -> tuple[int, int]:
    """A judge's score lies between 0 and the criterion's full marks; returns both in centipoints."""
    max_cp = to_centipoints(max_score, field="max_score")
    if max_cp <= 0:
        raise RuleViolation("满分须大于0", field="max_score")
    score_cp = to_centipoints(score, field="score")
    if not 0 <= score_cp <= max_cp:
        raise RuleViolation(f"评分须在0到满分{format_points(max_cp)}之间", field="score", kind="score-out-of-range")
    return score_cp, max_cp


def format_points(centipoints: int) -> str:
    """8750 -> "87.50": shown as text so no float ever rounds a score."""
    return f"{Decimal(centipoints) / CENTIPOINTS_PER_POINT:.2f}"


WEIGHT_TOTAL_BP = 10_000            # weights of an event's criteria add up to 100 %
FULL_MARKS_CENTIPOINTS = 10_000     # a judge's weighted total lies on a 100-point scale

CriterionKind = Literal["theory", "practical"]
Prize = Literal["first", "second", "third", "excellence"]
PRIZES: tuple[Prize, ...] = ("first", "second", "third", "excellence")
PRIZE_NAMES: dict[str, str] = {"first": "一等奖", "second": "二等奖", "third": "三等奖", "excellence": "优秀奖"}


@dataclass(frozen=True)
class Criterion:
    """One line of the scoring standard (评分标准) of an event."""

    id: str
    name: str
    kind: CriterionKind
    weight_bp: int
    max_centipoints: int


def check_criteria(criteria: Sequence[Criterion], *, skill: bool, theory_cap_bp: int) -> None:
    """An event's scoring standard: named once each, positive weights adding up to 100 %, positive
    full marks; in a skill event theory weighs at most `theory_cap_bp` (30 % by default)."""
    if not criteria:
        raise RuleViolation("评分标准至少须有一个评分项", field="criteria", kind="criteria-empty")
    names = [c.name for c in criteria]
    if len(set(names)) != len(names):
        raise RuleViolation("评分项名称不能重复", field="criteria", kind="criteria-duplicate")
    for i, c in enumerate(criteria):
        if c.kind not in ("theory", "practical"):
            raise RuleViolation("评分项类型须为 theory（理论）或 practical（实操）", field=f"criteria.{i}.kind")
        if c.weight_bp <= 0:
            raise RuleViolation("评分项权重须大于0", field=f"criteria.{i}.weight_bp", kind="criteria-weights")
        if c.max_centipoints <= 0:
            raise RuleViolation("满分须大于0", field=f"criteria.{i}.max_score")
    total = sum(c.weight_bp for c in criteria)
    if total != WEIGHT_TOTAL_BP:
        raise RuleViolation(f"各评分项权重之和须为100%（现为{format_share(total)}）", field="criteria",
                            kind="criteria-weights")
    theory = sum(c.weight_bp for c in criteria if c.kind == "theory")
    if skill and theory > theory_cap_bp:
        raise RuleViolation(f"技能比赛理论成绩占比不得超过{format_share(theory_cap_bp)}（现为{format_share(theory)}）",
                            field="criteria", kind="theory-share")


def format_share(bp: int) -> str:
    """3000 -> "30%", 1250 -> "12.5%"."""
    text = f"{Decimal(bp) / 100:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


# ---- one judge, one competitor --------------------------------------------------------------

@dataclass(frozen=True)
class JudgeTotal:
    judge_id: str
    total: Fraction        # centipoints on the 100-point scale
    practical: Fraction    # the practical criteria's part of `total`


def judge_total(judge_id: str, criteria: Sequence[Criterion], scores: Mapping[str, int]) -> JudgeTotal:
    """A judge's weighted total of one competitor; `scores` maps criterion id to centipoints and
    must hold every criterion (completeness is checked before results)."""
    total = practical = Fraction(0)
    for c in criteria:
        part = Fraction(scores[c.id] * c.weight_bp, c.max_centipoints)
        total += part
        if c.kind == "practical":
            practical += part
    return JudgeTotal(judge_id, total, practical)


def round_centipoints(value: Fraction) -> int:
    """Half up to whole centipoints (scores are never negative; 四舍五入)."""
    return int((value * 2 + 1) // 2)


def trimmed(totals: Sequence[JudgeTotal], trim_min_judges: int) -> tuple[list[JudgeTotal], list[JudgeTotal]]:
    """(kept, dropped): with at least `trim_min_judges` judges the single highest and the single
    lowest total are dropped — once each, whatever ties there are; with fewer, all are kept.
    Sorting by (total, judge id) makes the choice between equal totals independent of input order;
    it changes only which name is reported, never the mean."""
    ordered = sorted(totals, key=lambda t: (t.total, t.judge_id))
    if len(ordered) >= max(trim_min_judges, 3):
        return ordered[1:-1], [ordered[0], ordered[-1]]
    return ordered, []


@dataclass(frozen=True)
class FinalScore:
    """A competitor's result from their judges."""

    final_centipoints: int
    practical_centipoints: int
    exact: Fraction
    judges_counted: tuple[str, ...]
    judges_dropped: tuple[str, ...]
    spread_centipoints: int          # highest minus lowest judge total (all judges, rounded)
    judges_disagree: bool            # spread beyond the contest's threshold: worth a second look


def final_score(criteria: Sequence[Criterion], sheets: Mapping[str, Mapping[str, int]], *,
                trim_min_judges: int = 5, spread_flag_centipoints: int = 1500) -> FinalScore:
    """Mean of the judges' weighted totals, after dropping the highest and the lowest when there
    are at least `trim_min_judges` judges; `sheets` maps judge id to {criterion id: centipoints}
    and holds only the judges who may score this competitor (conflicted judges stepped aside)."""
    if not sheets:
        raise ValueError("no judge scored this competitor")
    totals = [judge_total(j, criteria, s) for j, s in sheets.items()]
    kept, dropped = trimmed(totals, trim_min_judges)
    exact = sum((t.total for t in kept), Fraction(0)) / len(kept)
    practical = sum((t.practical for t in kept), Fraction(0)) / len(kept)
    spread = max(t.total for t in totals) - min(t.total for t in totals)
    return FinalScore(
        final_centipoints=round_centipoints(exact),
        practical_centipoints=round_centipoints(practical),
        exact=exact,
        judges_counted=tuple(sorted(t.judge_id for t in kept)),
        judges_dropped=tuple(t.judge_id for t in dropped),
        spread_centipoints=round_centipoints(spread),
        judges_disagree=spread > spread_flag_centipoints,
    )


def team_score(member_scores: Sequence[int], how: Literal["sum", "mean"]) -> int:
    """A team's score from its members' published scores (centipoints), as the contest defines:
    their sum, or their mean rounded half up."""
    if not member_scores:
        raise ValueError("a team without scored members")
    if how == "sum":
        return sum(member_scores)
    if how == "mean":
        return round_centipoints(Fraction(sum(member_scores), len(member_scores)))
    raise ValueError(f"unknown team scoring {how!r}")


# ---- ranking --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Competitor:
    """An entry or a team, as ranked."""

    id: uuid.UUID
    score_centipoints: int
    practical_centipoints: int
    time_ms: int | None = None           # recorded completion time; none ranks after any time
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def ranking_key(c: Competitor) -> tuple:
    """Higher score first; ties go to the higher practical score, then the shorter time, then —
    so that a ranking never depends on input order — the competitor id."""
    return (-c.score_centipoints, -c.practical_centipoints, c.time_ms is None, c.time_ms or 0, str(c.id))


@dataclass(frozen=True)
class Placed:
    rank: int
    competitor: Competitor
    prize: Prize | None


def rank(competitors: Iterable[Competitor], tiers: Mapping[str, int] | None = None) -> list[Placed]:
    """Strict ranks 1..n (ties are always broken) with prizes given down the ranking:
    `tiers` maps prize to how many competitors win it."""
    ordered = sorted(competitors, key=ranking_key)
    prizes = prize_ladder(len(ordered), tiers or {})
    return [Placed(i + 1, c, prizes[i]) for i, c in enumerate(ordered)]


def prize_ladder(n: int, tiers: Mapping[str, int]) -> list[Prize | None]:
    ladder: list[Prize | None] = []
    for prize in PRIZES:
        ladder += [prize] * max(0, int(tiers.get(prize, 0)))
    return (ladder + [None] * n)[:n]


def prize_counts(n: int, *, basis: Literal["count", "share"], first: int, second: int, third: int,
                 excellence: int) -> dict[str, int]:
    """How many competitors win each prize. `count`: the numbers themselves; `share`: basis
    points of the number ranked, rounded down (a share is never exceeded), e.g. 一等奖 10 %,
    二等奖 20 %, 三等奖 30 % of 25 competitors = 2, 5, 7."""
    wanted = {"first": first, "second": second, "third": third, "excellence": excellence}
    if basis == "share":
        wanted = {p: n * bp // WEIGHT_TOTAL_BP for p, bp in wanted.items()}
    return wanted


def check_prize_rule(*, basis: str, first: int, second: int, third: int, excellence: int) -> None:
    values = {"first": first, "second": second, "third": third, "excellence": excellence}
    for name, v in values.items():
        if v < 0:
            raise RuleViolation("获奖名额不能为负", field=f"prizes.{name}", kind="prize-tiers")
    if basis == "share" and sum(values.values()) > WEIGHT_TOTAL_BP:
        raise RuleViolation("各等奖比例之和不得超过100%", field="prizes", kind="prize-tiers")


# ---- completeness ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Missing:
    entry_id: uuid.UUID
    judge_id: str | None          # None: no judge may score this entry at all
    criterion: str | None


def missing_scores(criteria: Sequence[Criterion], judges: Sequence[str], recorded: set[tuple[str, str]], *,
                   entry_id: uuid.UUID, conflicted: set[str]) -> list[Missing]:
    """What is still missing for one entry: each judge who need not step aside owes every
    criterion; an entry all of whose judges are conflicted cannot be scored at all."""
    eligible = [j for j in sorted(judges) if j not in conflicted]
    if not eligible:
        return [Missing(entry_id, None, None)]
    return [Missing(entry_id, j, c.name) for j in eligible for c in criteria if (j, c.id) not in recorded]


# ---- who judges what, and when ----------------------------------------------------------------

SCORING_STATUSES = ("judging",)   # the organisers started judging; publication ends it


@dataclass(frozen=True)
class JudgingDefaults:
    theory_cap_bp: int = 3000
    trim_min_judges: int = 5
    spread_flag_centipoints: int = 1500

    @classmethod
    def of(cls, settings) -> "JudgingDefaults":
        return cls(settings.judging_theory_cap_bp, settings.judging_trim_min_judges,
                   settings.judging_spread_flag_centipoints)


def criteria_for(by_event: dict, event_id: uuid.UUID | None) -> list[Criterion]:
    """An entry is scored on its event's criteria, or on the contest-wide ones if its event has none."""
    return by_event.get(event_id) or by_event.get(None) or []


def judges_for(by_event: dict, event_id: uuid.UUID | None) -> dict[str, dict]:
    """The judges of an entry: its event's and those assigned to every event."""
    return (by_event.get(None) or {}) | (by_event.get(event_id) or {} if event_id is not None else {})


def conflicted(judge: dict, entrant_union_id: uuid.UUID) -> bool:
    """回避: a judge from the entrant's own unit does not score them."""
    return judge["union_id"] == entrant_union_id


def check_scoring_open(status: str) -> None:
    """Scores are recorded only while the contest is in judging (评审中): not before the
    organisers start it, not after publication (then only by correction)."""
    if status == "published":
        raise RuleViolation("成绩已公布，改分须走更正程序", field="score", status=409, kind="results-published")
    if status not in SCORING_STATUSES:
        raise RuleViolation(f"竞赛处于“{CONTEST_STATUSES[status]}”，开始评审后方可评分", field="score", status=409,
                            kind="not-judging")


def check_publishable(status: str) -> None:
    """Results are published from judging only; publication closes judging."""
    if status == "published":
        raise RuleViolation("成绩已公布；更正请走更正程序", status=409, kind="results-published")
    if status != "judging":
        raise RuleViolation(f"竞赛处于“{CONTEST_STATUSES[status]}”，开始评审并完成评分后方可公布成绩", status=409,
                            kind="not-judging")


def check_not_published(status: str) -> None:
    """The judging set-up (rules, criteria, judges, times) is fixed once results are published."""
    if status == "published":
        raise RuleViolation("成绩已公布，不能再修改评审设置", status=409, kind="results-published")
