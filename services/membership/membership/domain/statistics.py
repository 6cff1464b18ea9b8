"""The union's statistical report (工会组织和会员统计): its categories (age bands, levels, kinds
of unit, employer ownership), the reporting date of a year, and the report form's rows, free of I/O
(`adapters.report_forms` writes them as a workbook)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from membership.domain.rights import figures_day
from unionops.backdating import check_dated

# Age on the reporting date; a band starts at each bound (width_bucket in SQL: 0 = below the first).
AGE_BAND_STARTS = (36, 46, 56)
AGE_BAND_LABELS = ("35岁及以下", "36至45岁", "46至55岁", "56岁及以上")

LEVEL_LABELS = {"city": "市总工会", "district": "区县（产业）工会", "street": "街道（乡镇）工会",
                "grassroots": "基层工会"}
LEVEL_ORDER = tuple(LEVEL_LABELS)

KIND_LABELS = {
    "federation": "总工会", "district_federation": "区总工会", "county_federation": "县总工会",
    "industry_union": "产业（行业）工会", "street_union": "街道工会", "town_union": "乡镇工会",
    "community_station": "社区工会工作站", "enterprise_union": "企业工会",
    "joint_grassroots_union": "联合基层工会", "building_union": "楼宇工会", "market_union": "市场工会",
    "migrant_worker_federation": "进城务工人员工会联合会",
}

# A member's employer's ownership: the registered employer of the member's credit code, else the
# one kind all employers of the member's union share; "unknown" when neither says.
OWNERSHIP_LABELS = {"state_owned": "国有", "collective": "集体", "non_public": "非公有制", "unknown": "未登记"}
PUBLIC_OWNERSHIPS = ("state_owned", "collective")  # 公有制


def reporting_date(year: int, today: date) -> date:
    """The day the stock figures are counted on: 31 December, or today in the current year."""
    check_dated(date(year, 1, 1), today, field="query.year", what="统计年度的起始日")
    return figures_day(year, today)


def member_breakdown(cells: list[dict]) -> dict:
    """The members figures from the counts by (gender, age_band, migrant, ownership)."""
    def total(**where) -> int:
        return sum(c["members"] for c in cells if all(c[k] == v for k, v in where.items()))
    return {
        "total": total(),
        "by_gender": {"male": total(gender="male"), "female": total(gender="female")},
        "by_age_band": [{"band": i, "label": label, "members": total(age_band=i)}
                        for i, label in enumerate(AGE_BAND_LABELS)],
        "migrant_workers": total(migrant=True),
        "by_employer_ownership": [{"ownership": o, "label": label, "members": total(ownership=o)}
                                  for o, label in OWNERSHIP_LABELS.items()],
        "public_sector": sum(total(ownership=o) for o in PUBLIC_OWNERSHIPS),
    }


def unit_rows(counts: list[dict]) -> list[dict]:
    """Units by level and kind, in the tree's order, with their labels."""
    rows = [{**c, "level_label": LEVEL_LABELS[c["level"]], "kind_label": KIND_LABELS.get(c["kind"], c["kind"])}
            for c in counts]
    return sorted(rows, key=lambda r: (LEVEL_ORDER.index(r["level"]), r["kind"]))


# ---- the report form -----------------------------------------------------------------------------

Style = Literal["title", "note", "section", "header", "row", "total"]


@dataclass(frozen=True)
class FormRow:
    style: Style
    cells: tuple


def _share(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def report_form(report: dict) -> list[FormRow]:
    """The report as the form offices file upward: sections of label / figure rows, each
    section's total on its own row."""
    units, members, flows = report["units"], report["members"], report["flows"]
    npe = report["non_public_employers"]
    rows = [
        FormRow("title", (f"工会组织和会员统计表（{report['year']}年）",)),
        FormRow("note", (f"填报单位：{report['org_name']}", f"统计截止日期：{report['as_of'].isoformat()}")),
        FormRow("section", ("一、工会组织",)),
        FormRow("header", ("层级", "类型", "组织数", "本年新建")),
        *(FormRow("row", (u["level_label"], u["kind_label"], u["total"], u["founded_this_year"]))
          for u in units["by_level_kind"]),
        FormRow("total", ("合计", "", sum(u["total"] for u in units["by_level_kind"]),
                          sum(u["founded_this_year"] for u in units["by_level_kind"]))),
        FormRow("row", ("基层工会本年新建", "", units["founded_this_year"], "")),
        FormRow("row", ("本年建会目标", "", units["target"] if units["target"] is not None else "—", "")),
        FormRow("row", ("目标完成率", "", _share(units["progress"]), "")),
        FormRow("section", ("二、会员",)),
        FormRow("header", ("指标", "", "人数", "")),
        FormRow("row", ("年初会员数", "", members["at_start_of_year"], "")),
        FormRow("total", ("期末会员数", "", members["total"], "")),
        FormRow("row", ("其中：男", "", members["by_gender"]["male"], "")),
        FormRow("row", ("其中：女", "", members["by_gender"]["female"], "")),
        *(FormRow("row", (f"年龄：{b['label']}", "", b["members"], "")) for b in members["by_age_band"]),
        FormRow("row", ("其中：农民工", "", members["migrant_workers"], "")),
        *(FormRow("row", (f"所在单位：{o['label']}", "", o["members"], ""))
          for o in members["by_employer_ownership"]),
        FormRow("row", ("所在单位为公有制（国有、集体）", "", members["public_sector"], "")),
        FormRow("section", ("三、会员变动（本年）",)),
        FormRow("header", ("指标", "", "人数", "")),
        FormRow("row", ("新入会", "", flows["joins"], "")),
        FormRow("row", ("存量会员登记入库", "", flows["registered"], "")),
        FormRow("row", ("转入", "", flows["transfers_in"], "")),
        FormRow("row", ("转出", "", flows["transfers_out"], "")),
        FormRow("row", ("组织合并、撤销转入", "", flows["reorganised_in"], "")),
        FormRow("row", ("组织合并、撤销转出", "", flows["reorganised_out"], "")),
        FormRow("row", ("退会", "", flows["leaves"], "")),
        FormRow("section", ("四、非公有制企业建会",)),
        FormRow("header", ("指标", "", "数量", "")),
        FormRow("row", ("非公有制企业", "", npe["total"], "")),
        FormRow("row", ("已建会", "", npe["covered"], "")),
        FormRow("row", ("建会率", "", _share(npe["coverage_rate"]), "")),
        FormRow("section", ("五、维权（集体合同、职代会、厂务公开、劳动争议调解组织）",)),
        FormRow("header", ("指标", "已建（覆盖）", "应建（基数）", "比率／目标")),
        *(FormRow("row", (r["label"], r["covered"], r["base"], _percent_and_target(r)))
          for r in report.get("rights", [])),
    ]
    return rows


def _percent_and_target(rate: dict) -> str:
    shown = "—" if rate["percent"] is None else f"{rate['percent']:.1f}%"
    return shown if rate["target_percent"] is None else f"{shown}／{rate['target_percent']}%"
