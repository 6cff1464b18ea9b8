"""Command-line tools of membership. `make import FILE=…` runs

    python -m membership.cli FILE --intake new_joins|register [--online-notice] --union <union id>
                             [--as <subject>] [--org <unit id>] [--dry-run] [--json]

importing a sheet straight into MEMBERSHIP_DATABASE_URL, all or nothing (commands.imports), with a
progress bar and the report; exit code 0 imported (or dry run), 1 rows rejected, 2 sheet refused.
`--intake` has no default: the tool that loads whole registers must be told whether its people
join now (each welcomed) or joined long ago (存量会员: not welcomed)."""
from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from membership.adapters.spreadsheets import SheetRejected, open_sheet
from membership.commands.imports import import_members
from membership.domain.imports import ImportRejected
from membership.settings import Settings
from unionops import db, migrate
from unionops.auth import Principal, root_org_id
from unionops.pii import Vault
from unionops.problems import Problem, RuleViolation

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    import resource
    import time

    import typer
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console(stderr=True)

    def import_sheet(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="the .xlsx or .csv sheet"),
        union: uuid.UUID | None = typer.Option(None, "--union", help="default union for rows without 所属工会"),
        as_subject: str = typer.Option("cli", "--as", help="who imports (recorded as the actor)"),
        org: uuid.UUID | None = typer.Option(None, "--org", help="limit to this unit's subtree (default: the city)"),
        dry_run: bool = typer.Option(False, "--dry-run", help="validate only, write nothing"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
        intake: str = typer.Option(..., "--intake", help="required: new_joins (people joining now: each is "
                                   "welcomed) or register (the existing register, 存量会员: nobody is welcomed)"),
        online_notice: bool = typer.Option(False, "--online-notice", help="with --intake register: tell each member "
                                           "once that their membership is now online (您的会员信息已上线)"),
    ) -> None:
        """Import members from a sheet straight into MEMBERSHIP_DATABASE_URL, all or nothing."""
        settings = Settings()
        actor = Principal(subject=as_subject, name=as_subject, role="federation_admin",
                          org_id=org or root_org_id(settings.city_region_code))
        vault = Vault.from_settings(settings)

        async def run() -> tuple[int, dict]:
            await migrate.on_start(settings.database_url, MIGRATIONS,
                                   migrate=settings.migrate_on_start, service="membership")
            conn = await db.connect(settings.database_url)
            try:
                with file.open("rb") as fh, Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                                 TextColumn("行"), TimeElapsedColumn(), console=console,
                                                 transient=as_json) as bar:
                    sheet = await asyncio.to_thread(open_sheet, fh, file.name)
                    tasks: dict[str, Any] = {}

                    def on_progress(stage: str, done: int, total: int | None) -> None:
                        if stage not in tasks:
                            tasks[stage] = bar.add_task(stage, total=total)
                        bar.update(tasks[stage], completed=done, total=max(total or 0, done) or None)

                    try:
                        outcome = await import_members(conn, sheet, actor, vault, default_union_id=union,
                                                       dry_run=dry_run, intake=intake, online_notice=online_notice,
                                                       progress=on_progress)
                        return 0, outcome.body
                    except ImportRejected as exc:
                        return 1, exc.report.summary()
                    except SheetRejected as exc:
                        return 2, exc.problem.to_dict()
                    except (RuleViolation, Problem) as exc:
                        problem = exc.to_problem() if isinstance(exc, RuleViolation) else exc
                        return 2, problem.to_dict()
            finally:
                await conn.close()

        started = time.perf_counter()
        code, body = asyncio.run(run())
        elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if as_json:
            print(json.dumps(body | {"elapsed_s": round(elapsed, 3), "peak_rss_mb": round(peak_mb, 1)},
                             ensure_ascii=False))
        else:
            _print_report(console, body, elapsed, peak_mb, Table)
        raise typer.Exit(code)

    typer.run(import_sheet)


def _print_report(console, body: dict, elapsed: float, peak_mb: float, Table) -> None:
    if "rows" not in body:  # a problem document
        console.print(f"[red]{body.get('detail')}[/red]")
        for e in body.get("errors") or []:
            console.print(f"  第{e.get('row') or '-'}行 {e.get('column') or e.get('field')}: {e.get('message')}")
        return
    state = {"imported": "[green]已导入[/green]", "dry_run": "[yellow]仅校验（未写入）[/yellow]",
             "rejected": "[red]未导入：存在错误[/red]"}.get(body["result"], body["result"])
    console.print(f"{state}  文件 {body['file_name']}  行数 {body['rows']}  新入会 {body['imported']}"
                  f"  未变化 {body['unchanged']}  错误 {body['error_count']}")
    if body["errors"]:
        table = Table("行", "列", "原因")
        for e in body["errors"]:
            table.add_row(str(e["row"] or "-"), e["column"], e["message"])
        console.print(table)
        if body["errors_truncated"]:
            console.print(f"（仅列出前 {len(body['errors'])} 处；按列统计：{body['errors_by_field']}）")
    rate = body["rows"] / elapsed if elapsed else 0
    console.print(f"用时 {elapsed:.1f} s（{rate:,.0f} 行/秒），峰值内存 {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
