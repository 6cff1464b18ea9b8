"""Message templates: Jinja2 files in `templates/`, one pair per notification and version
(`<name>.v<version>.subject.j2` and `.body.j2`), plain text in Chinese.

A delivery stores the name and version it was created with, so publishing v2 of a template
never changes what an already queued notification says; old versions stay on disk.
`ChannelRenderer` renders them per channel and language (SMS, group chat, in-app)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
# China has one time zone and no daylight saving: a fixed offset needs no tz database.
BEIJING = timezone(timedelta(hours=8), "CST")


class TemplateError(Exception):
    """A template is missing or cannot be rendered with the given data."""


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    version: int
    event_type: str
    description: str
    sample: dict[str, Any] = field(default_factory=dict)


# What a delivery's context gains only when notify's projections know it (commands.deliveries):
# an officer's work item about a member gets the member's name from the contacts — a non-member
# (a dispute's applicant) or a member not yet projected has none. A template must read well
# without it (tested for every template whose sample has it).
ADDED_WHEN_KNOWN: frozenset[str] = frozenset({"member_name"})


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


# ---- Chinese formatting (Jinja filters) ------------------------------------------------------

def _as_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(BEIJING) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise TemplateError(f"not a date: {value!r}")


def cn_date(value: Any) -> str:
    """2025-03-05 -> 2025年3月5日"""
    d = _as_datetime(value)
    return f"{d.year}年{d.month}月{d.day}日"


def cn_datetime(value: Any) -> str:
    """An instant in Beijing time: 2025年3月5日 14:30"""
    d = _as_datetime(value)
    return f"{cn_date(d)} {d:%H:%M}"


def yuan(fen: int) -> str:
    """Integer fen as yuan with thousands separators: 123450 -> 1,234.50元"""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TemplateError(f"money must be integer fen, got {fen!r}")
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}元"


def points(centipoints: int) -> str:
    """Hundredths of a point, without trailing zeros: 8750 -> 87.5, 9000 -> 90"""
    whole, frac = divmod(int(centipoints), 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") if frac else str(whole)


def environment(directory: Path) -> jinja2.Environment:
    """The Jinja2 environment of the message templates, with the Chinese filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=False,  # plain-text mail: escaping would show "&lt;" to the member
        undefined=jinja2.StrictUndefined,  # a missing variable fails the render, not the reader
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, yuan=yuan, points=points)
    return env


# ---- the registry ----------------------------------------------------------------------------

_CAMPAIGN = {"campaign_name": "2026年春节送温暖", "campaign_kind_label": "春节送温暖", "org_name": "示例区总工会",
             "starts_on": "2026-01-05", "ends_on": "2026-02-10"}  # what a campaign's notices say of it

TEMPLATES: tuple[TemplateSpec, ...] = (
    TemplateSpec(
        "member_joined", 1, "MemberJoined", "入会欢迎信",
        sample={"name": "张三", "union_name": "示例科技有限公司工会", "joined_on": "2025-06-08"},
    ),
    TemplateSpec(
        "case_opened", 1, "CaseOpened", "帮扶案件受理通知",
        sample={"name": "李四", "case_ref": "3F2A9C1B", "case_kind_label": "医疗帮扶", "source_label": "本人申请",
                "opened_on": "2025-08-15", "union_name": "示例科技有限公司工会"},
    ),
    TemplateSpec(
        "contest_scored", 1, "ContestScored", "竞赛评分记录通知",
        sample={"name": "王五", "contest_name": "2025年职工技能比赛", "criterion": "实操", "score_centipoints": 8750,
                "max_centipoints": 10000, "scored_at": "2025-06-21T06:30:00+00:00"},
    ),
    # v2: before results are published a contestant hears only that scoring is under way — once
    # per entry, never a judge's raw score (v1 sent one mail per judge and criterion, with it).
    # No group-chat variant: scores are not news for a union's chat.
    TemplateSpec(
        "contest_scored", 2, "ContestScored", "竞赛评分进行中通知（不含分数）",
        sample={"name": "王五", "contest_name": "2025年职工技能比赛"},
    ),
    TemplateSpec(
        "member_transferred", 1, "MemberTransferred", "会员关系转移确认（致会员）",
        sample={"name": "张三", "from_union_name": "示例机械厂工会", "to_union_name": "示例科技有限公司工会",
                "reason_label": "劳动关系变动", "held_by_residence_union": False, "effective_on": "2025-07-01"},
    ),
    TemplateSpec(
        "member_transferred_officer", 1, "MemberTransferred", "会员关系转移确认（致转出、转入工会组织委员）",
        sample={"name": "刘组织", "member_name": "张三", "from_union_name": "示例机械厂工会",
                "to_union_name": "示例科技有限公司工会", "reason_label": "劳动关系变动", "effective_on": "2025-07-01",
                "direction": "in"},
    ),
    TemplateSpec(
        "transfer_requested", 1, "TransferRequested", "会员关系转入申请（致会员，请确认或谢绝）",
        sample={"name": "张三", "to_union_name": "示例科技有限公司工会", "new_employer": "示例科技有限公司",
                "expires_on": "2025-07-31", "request_ref": "3F2A9C1B"},
    ),
    TemplateSpec(
        "transfer_requested_officer", 1, "TransferRequested", "会员关系转入申请（致转出工会组织委员，工作事项）",
        sample={"name": "刘组织", "member_name": "张三", "to_union_name": "示例科技有限公司工会",
                "new_employer": "示例科技有限公司", "expires_on": "2025-07-31", "request_ref": "3F2A9C1B"},
    ),
    TemplateSpec(
        "transfer_request_closed", 1, "TransferRequestClosed", "会员关系转入申请已过期（致会员）",
        sample={"name": "张三", "to_union_name": "示例科技有限公司工会", "outcome": "expired",
                "closed_on": "2025-08-01", "request_ref": "3F2A9C1B"},
    ),
    TemplateSpec(
        "transfer_request_closed_officer", 1, "TransferRequestClosed",
        "会员关系转入申请已谢绝或过期（致转出工会组织委员）",
        sample={"name": "刘组织", "member_name": "张三", "to_union_name": "示例科技有限公司工会",
                "outcome": "declined", "closed_on": "2025-08-01", "request_ref": "3F2A9C1B"},
    ),
    TemplateSpec(
        "case_awaiting_approval", 1, "CaseAssessed", "待审批帮扶案件（致审批人，工作事项）",
        sample={"name": "陈审批", "member_name": "李四", "case_ref": "3F2A9C1B", "proposed_amount_fen": 200000,
                "assessed_on": "2025-08-20", "union_name": "示例科技有限公司工会"},
    ),
    TemplateSpec(
        "case_approved", 1, "CaseApproved", "帮扶案件审批通过通知",
        sample={"name": "李四", "case_ref": "3F2A9C1B", "case_kind_label": "医疗帮扶", "amount_fen": 200000,
                "approved_on": "2025-08-25"},
    ),
    TemplateSpec(
        "aid_disbursed", 1, "AidDisbursed", "帮扶资金发放通知",
        sample={"name": "李四", "case_ref": "3F2A9C1B", "case_kind_label": "医疗帮扶", "amount_fen": 200000,
                "paid_on": "2025-08-28"},
    ),
    TemplateSpec(
        "visit_gift_paid", 1, "AidDisbursed", "走访慰问金发放登记通知（请会员核对所收金额）",
        sample={"name": "赵敏", "case_ref": "5B0E41C7", "amount_fen": 50000, "visited_on": "2026-01-18"},
    ),
    TemplateSpec(
        "campaign_payment_made", 1, "AidDisbursed", "帮扶活动（送温暖、金秋助学等）资金发放通知",
        sample={"name": "王芳", "campaign_name": "2026年春节送温暖", "case_ref": "7C1D22AE",
                "case_kind_label": "生活救助", "amount_fen": 150000, "paid_on": "2026-01-20"},
    ),
    TemplateSpec(
        "campaign_started", 1, "CampaignLaunched", "帮扶活动开始通知（致所涉困难职工家庭）",
        sample=_CAMPAIGN | {"name": "王芳"},
    ),
    # Issue 13: the officers who run a campaign, the member of an imported register, a rejection.
    TemplateSpec("campaign_started_officer", 1, "CampaignLaunched", "帮扶活动启动（致本单位审批人，工作事项）",
                 sample=_CAMPAIGN | {"name": "陈审批"}),
    TemplateSpec(
        "member_registered", 1, "MemberJoined", "会员信息已上线（存量会员导入时由工会选择发送）",
        sample={"name": "张三", "union_name": "示例科技有限公司工会", "joined_on": "2012-03-01"},
    ),
    TemplateSpec(
        "case_rejected", 1, "CaseRejected", "帮扶申请未获批准通知（含原因）",
        sample={"name": "李四", "case_ref": "3F2A9C1B", "case_kind_label": "医疗帮扶",
                "reason_text": "申请材料不足以证明您的困难情况", "rejected_on": "2025-08-25"},
    ),
    TemplateSpec(
        "aid_reversed", 1, "AidReversed", "帮扶资金冲正（撤回）通知",
        sample={"name": "王芳", "campaign_name": "2026年春节送温暖", "case_ref": "7C1D22AE",
                "case_kind_label": "生活救助", "amount_fen": 150000, "paid_on": "2026-01-20",
                "reversed_on": "2026-01-23"},
    ),
    TemplateSpec(
        "team_registered", 1, "TeamRegistered", "竞赛报名成功通知",
        sample={"name": "赵强", "contest_name": "2025年职工技能比赛", "team_name": "示例机械厂一队", "is_leader": True},
    ),
    TemplateSpec(
        "team_waitlisted", 1, "TeamWaitlisted", "竞赛候补通知",
        sample={"name": "赵强", "contest_name": "2025年职工技能比赛", "team_name": "示例机械厂一队", "is_leader": False,
                "waiting_position": 2},
    ),
    TemplateSpec(
        "team_promoted", 1, "TeamRegistered", "竞赛候补递补成功通知",
        sample={"name": "赵强", "contest_name": "2025年职工技能比赛", "team_name": "示例机械厂一队", "is_leader": False},
    ),
    TemplateSpec(
        "contest_results", 1, "ContestResultsPublished", "竞赛成绩公布（含更正）通知",
        sample={"name": "王五", "contest_name": "2025年职工技能比赛", "revision": 1, "correction_reason": None,
                "published_at": "2025-07-10T02:00:00+00:00",
                "placings": [{"rank": 1, "prize_label": "一等奖", "score_centipoints": 9425}]},
    ),
    TemplateSpec(
        "proposal_answered", 1, "ProposalAnswered", "合理化建议答复通知",
        sample={"name": "孙丽", "proposal_ref": "9A0B1C2D", "outcome_label": "已采纳", "adopted": True,
                "answered_on": "2025-09-01"},
    ),
    TemplateSpec(
        "hotline_ticket_overdue", 1, "HotlineTicketOverdue", "12351工单超期提醒（致承办人或热线负责人）",
        sample={"name": "周热线", "ticket_ref": "5E6F7A8B", "category_label": "难点",
                "due_at": "2025-09-05T09:00:00+00:00", "detected_at": "2025-09-05T09:05:00+00:00"},
    ),
    TemplateSpec("collective_offer_received", 1, "CollectiveOfferSent", "企业发出集体协商要约（致工会维权干部，工作事项）",
                 sample={"name": "钱维权", "title": "示例科技有限公司2026年工资专项集体合同",
                         "employer_names": ["示例科技有限公司"], "received_on": "2026-03-02",
                         "answer_due_on": "2026-03-22"}),
    TemplateSpec("collective_offer_to_employer", 1, "CollectiveOfferSent", "工会发出集体协商要约（致企业方联系人）",
                 sample={"name": "王人事", "title": "示例科技有限公司2026年工资专项集体合同",
                         "union_name": "示例科技有限公司工会", "employer_name": "示例科技有限公司",
                         "sent_on": "2026-03-01", "received_on": "2026-03-02", "answer_due_on": "2026-03-22"}),
    TemplateSpec("collective_renewal_to_employer", 1, "CollectiveContractExpiring", "集体合同期满前续订提示（致企业方联系人）",
                 sample={"name": "王人事", "title": "示例科技有限公司2026年工资专项集体合同",
                         "union_name": "示例科技有限公司工会", "employer_name": "示例科技有限公司",
                         "ends_on": "2028-02-29"}),
    TemplateSpec("collective_offer_answer_due", 1, "CollectiveOfferAnswerDue", "集体协商要约答复期限将至（致工会维权干部）",
                 sample={"name": "钱维权", "title": "示例科技有限公司2026年工资专项集体合同",
                         "answer_due_on": "2026-03-22"}),
    TemplateSpec("collective_offer_overdue", 1, "CollectiveOfferOverdue", "集体协商要约超过20日未答复（致工会维权干部）",
                 sample={"name": "钱维权", "title": "示例科技有限公司2026年工资专项集体合同", "offered_by_union": True,
                         "received_on": "2026-03-02", "answer_due_on": "2026-03-22"}),
    TemplateSpec("collective_contract_in_force", 1, "CollectiveContractInForce", "集体合同已生效、待公布（致工会维权干部）",
                 sample={"name": "钱维权", "title": "示例街道2026年区域性集体合同", "kind_label": "综合性集体合同",
                         "in_force_from": "2026-05-16", "ends_on": "2029-04-30"}),
    TemplateSpec("collective_contract_expiring", 1, "CollectiveContractExpiring", "集体合同到期前六个月续订提醒（致工会维权干部）",
                 sample={"name": "钱维权", "title": "示例街道2026年区域性集体合同", "kind_label": "综合性集体合同",
                         "ends_on": "2029-04-30"}),
    TemplateSpec(
        "congress_delegate_elected", 1, "DelegatesElected", "当选职工代表通知",
        sample={"name": "刘洋", "congress_name": "示例机械厂第三届职工代表大会", "elected_on": "2026-11-20",
                "term_start": "2026-12-01", "term_end": "2029-11-30"},
    ),
    TemplateSpec(
        "congress_proposal_answered", 1, "CongressProposalAnswered", "职代会提案答复通知（致提案代表）",
        sample={"name": "何敏", "congress_name": "示例机械厂第三届职工代表大会", "proposal_ref": "4B5C6D7E",
                "outcome_label": "立案并落实", "answered_on": "2026-03-20", "late": False},
    ),
    TemplateSpec(
        "congress_proposal_overdue", 1, "CongressProposalOverdue", "职代会提案超期未答复提醒（致维权干部）",
        sample={"name": "陈维权", "congress_name": "示例街道区域性职工代表大会", "proposal_ref": "4B5C6D7E",
                "answer_due_on": "2026-03-15", "detected_on": "2026-03-16"},
    ),
    TemplateSpec("dispute_registered", 1, "DisputeOpened", "劳动争议调解申请受理通知（致申请职工）",
                 sample={"name": "李四", "dispute_ref": "1A2B3C4D", "kind_label": "劳动报酬",
                         "applied_on": "2026-03-02", "employer_name": "示例建筑劳务有限公司"}),
    TemplateSpec("collective_dispute_flagged", 1, "DisputeOpened", "集体劳动争议（致区总工会维权工作人员，紧急工作事项）",
                 sample={"name": "何维权", "dispute_ref": "1A2B3C4D", "kind_label": "劳动报酬", "workers_concerned": 23,
                         "employer_name": "示例建筑劳务有限公司", "unit_name": "示例街道总工会",
                         "applied_on": "2026-03-02"}),
    TemplateSpec("dispute_mediated", 1, "DisputeMediated", "劳动争议达成调解协议通知",
                 sample={"name": "李四", "dispute_ref": "1A2B3C4D", "kind_label": "劳动报酬", "agreed_on": "2026-03-10",
                         "amount_fen": 1250000}),
    TemplateSpec("dispute_failed", 1, "DisputeFailed", "劳动争议调解不成通知",
                 sample={"name": "李四", "dispute_ref": "1A2B3C4D", "kind_label": "劳动报酬", "failed_on": "2026-03-10",
                         "reason_text": "双方经调解未能达成协议"}),
    TemplateSpec("dispute_arbitration_open", 1, "DisputeArbitrationOpen", "可以申请劳动争议仲裁的通知（致申请职工）",
                 sample={"name": "李四", "dispute_ref": "1A2B3C4D", "kind_label": "劳动报酬", "open_from": "2026-03-18",
                         "applied_on": "2026-03-02", "mediation_failed": False}),
    TemplateSpec("dispute_arbitration_open_officer", 1, "DisputeArbitrationOpen",
                 "劳动争议调解期满或调解不成提醒（致受理人或维权工作人员）",
                 sample={"name": "何维权", "member_name": "李四", "dispute_ref": "1A2B3C4D", "kind_label": "劳动报酬",
                         "open_from": "2026-03-18", "applied_on": "2026-03-02", "mediation_failed": False,
                         "has_member": True}),
    TemplateSpec("dispute_referred", 1, "DisputeReferred", "转介法律援助通知",
                 sample={"name": "李四", "dispute_ref": "1A2B3C4D", "kind_label": "劳动报酬", "case_ref": "5E6F7A8B",
                         "referred_on": "2026-03-12"}),
    TemplateSpec(
        "training_enrolled", 1, "TrainingEnrolled", "培训班报名成功通知（含培训时间、地点）",
        sample={"name": "刘洋", "programme_name": "2026年集体协商指导员培训班", "kind_label": "集体协商指导员培训",
                "starts_on": "2026-05-11", "ends_on": "2026-05-15", "place": "区职工服务中心三楼"},
    ),
    TemplateSpec(
        "training_completed", 1, "TrainingCompleted", "培训结业通知（含结业证书编号）",
        sample={"name": "刘洋", "programme_name": "2026年集体协商指导员培训班", "kind_label": "集体协商指导员培训",
                "certificate_no": "PX-2026-XS-000123", "completed_on": "2026-05-15", "sessions_attended": 4,
                "sessions": 5},
    ),
)

class TemplateRegistry:
    """Renders the registered templates; `defaults` are variables every template may use
    (the sending federation's name)."""

    def __init__(self, specs: tuple[TemplateSpec, ...] = TEMPLATES, *, directory: Path = TEMPLATE_DIR,
                 defaults: dict[str, Any] | None = None) -> None:
        self._specs = {(s.name, s.version): s for s in specs}
        self._current = {}
        for s in specs:
            if s.version >= self._current.get(s.name, s).version:
                self._current[s.name] = s
        self.defaults = dict(defaults or {})
        self._env = environment(directory)

    def current(self, name: str) -> TemplateSpec:
        try:
            return self._current[name]
        except KeyError:
            raise TemplateError(f"unknown template {name!r}") from None

    def get(self, name: str, version: int | None = None) -> TemplateSpec:
        if version is None:
            return self.current(name)
        try:
            return self._specs[(name, version)]
        except KeyError:
            raise TemplateError(f"unknown template {name!r} v{version}") from None

    def list(self) -> list[TemplateSpec]:
        return sorted(self._current.values(), key=lambda s: s.name)

    def render(self, name: str, version: int, variables: dict[str, Any]) -> Rendered:
        spec = self.get(name, version)  # only registered names reach the file loader
        data = {**self.defaults, **variables}
        try:
            subject = self._env.get_template(f"{spec.name}.v{spec.version}.subject.j2").render(data)
            body = self._env.get_template(f"{spec.name}.v{spec.version}.body.j2").render(data)
        except TemplateError:
            raise
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{spec.name} v{spec.version}: {exc}") from exc
        except (ValueError, TypeError) as exc:  # a filter given data of the wrong shape
            raise TemplateError(f"{spec.name} v{spec.version}: {exc}") from exc
        # A subject is one header line: newlines from the data must not start new headers.
        return Rendered(subject=" ".join(subject.split()), body=body.strip() + "\n")

    def preview(self, name: str, version: int | None = None, overrides: dict[str, Any] | None = None) -> tuple[TemplateSpec, Rendered]:
        spec = self.get(name, version)
        return spec, self.render(spec.name, spec.version, {**spec.sample, **(overrides or {})})


# ---- per channel ----------------------------------------------------------------------------

def mask_name(name: str | None) -> str:
    """张三 -> 张*, 张三丰 -> 张*丰, 欧阳娜娜 -> 欧**娜: enough for colleagues to recognise, not to
    identify a stranger in a group chat or on a lock screen."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class ChannelRenderer:
    """Per-channel and per-language variants of the registered templates.

    Files, beside the e-mail pair `<name>.v<version>.subject.j2` / `.body.j2`:
      `<name>.v<version>.sms.j2`      one short text (SMS)
      `<name>.v<version>.webhook.j2`  Markdown for a group chat; its title is the e-mail subject
    A language other than zh-CN adds its tag before `.j2` (`member_joined.v1.sms.en.j2`); a file
    missing in that language falls back to the zh-CN one. In-app messages use the e-mail pair.
    A channel without its own file falls back to the e-mail body (SMS: the subject)."""

    def __init__(self, registry: TemplateRegistry, directory: Path = TEMPLATE_DIR) -> None:
        self.registry = registry
        self.directory = directory
        self._env = environment(directory)
        self._env.filters["mask_name"] = mask_name

    def _file(self, stem: str, part: str, language: str) -> str | None:
        for name in ([f"{stem}.{part}.{language}.j2"] if language != "zh-CN" else []) + [f"{stem}.{part}.j2"]:
            if (self.directory / name).exists():
                return name
        return None

    def _render(self, filename: str, data: dict[str, Any]) -> str:
        try:
            return self._env.get_template(filename).render(data)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{filename}: {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise TemplateError(f"{filename}: {exc}") from exc

    def render(self, name: str, version: int, channel: str, variables: dict[str, Any],
               language: str = "zh-CN") -> Rendered:
        spec = self.registry.get(name, version)  # only registered names reach the loader
        stem = f"{spec.name}.v{spec.version}"
        data = {**self.registry.defaults, **variables}
        subject_file = self._file(stem, "subject", language)
        body_file = self._file(stem, "body", language)
        if subject_file is None or body_file is None:
            raise TemplateError(f"{stem}: no subject/body template")
        subject = " ".join(self._render(subject_file, data).split())
        if channel in ("email", "inapp"):
            return Rendered(subject=subject, body=self._render(body_file, data).strip() + "\n")
        own = self._file(stem, channel, language)
        if channel == "sms":
            text = self._render(own, data) if own else subject
            return Rendered(subject=subject, body=" ".join(text.split()))  # one line, no layout
        return Rendered(subject=subject, body=(self._render(own, data) if own else self._render(body_file, data)).strip())
