"""Rendering advice (``mqa explain``, ``mqa advise``): plan tree, findings, index suggestions.

The JSON follows DESIGN.md's report contract (``schema_version`` 1): ``findings`` with check,
class_id, severity and message, and ``index_suggestions`` with table, columns, ddl, class_ids,
verified and estimate.rows_before/rows_after; everything else is an extension (``advice``: plans,
classes where no index helps, the verification's writes, the DDL per table).  Query text is
hostile: it goes into rich ``Text`` objects (never markup) and Markdown code spans/blocks.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from analyzer import __version__
from analyzer.advisor.workload import Advice, ClassAdvice
from analyzer.sources.explain import Plan, PlanNode
from analyzer.report.indexes import SEVERITY_STYLE
from analyzer.report.markdown import code_block
from analyzer.report.text import clean_json, visible



# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def advice_document(advice: Advice, *, report: Any = None, statement: str | None = None,
                    now: datetime | None = None, command: str = "advise") -> dict[str, Any]:
    """The JSON document: a digest report's (when the advice came from logs) plus the advice."""
    if report is not None:
        doc = report.to_json_dict()
    else:
        doc = {"schema_version": 1, "tool": {"name": "mqa", "version": __version__},
               "generated_at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
               "sources": [], "classes": []}
    doc["findings"] = [f.to_dict() for f in advice.findings]
    doc["index_suggestions"] = suggestions_json(advice)
    doc["advice"] = {
        "command": command,
        "statement": statement,
        "statistics": advice.indexes.statistics,
        "ddl": advice.indexes.ddl_statements(),
        "no_index_helps": [n.to_dict() for n in advice.indexes.no_help],
        "not_analyzed": [n.to_dict() for n in advice.indexes.skipped],
        "classes": [c.to_dict() for c in advice.classes],
        "verification": advice.verification.to_dict() if advice.verification is not None else None,
        "notes": advice.notes,
    }
    return doc


def suggestions_json(advice: Advice) -> list[dict[str, Any]]:
    return [s.to_dict(advice.indexes.ddl_for(s)) for s in advice.indexes.suggestions]


def advice_json(advice: Advice, **kwargs: Any) -> str:
    return json.dumps(clean_json(advice_document(advice, **kwargs)), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------
# Terminal
# --------------------------------------------------------------------------------------------


def _node_text(node: PlanNode) -> Text:
    text = Text()
    if node.kind == "table" and node.table is not None:
        t = node.table
        style = "bold red" if t.full_scan and (t.rows or 0) >= 10_000 else ("yellow" if t.full_scan else "green")
        text.append(visible(t.table), style="bold")
        text.append("  ")
        text.append(t.access_type or "?", style=style)
        if t.key:
            text.append(f" via {visible(t.key)}")
            if t.used_key_parts:
                text.append(f"({visible(', '.join(t.used_key_parts))})", style="dim")
        if t.rows is not None:
            text.append(f"  rows {t.rows:,.0f}")
        if t.filtered is not None and t.filtered < 100:
            text.append(f"  filtered {t.filtered:g}%")
        if t.r_rows is not None:
            text.append(f"  actual rows {t.r_rows:,.0f}", style="cyan")
        flags = [f for f, on in (("covering", t.using_index), ("filesort", t.using_filesort),
                                 ("temporary", t.using_temporary), ("dependent", t.dependent),
                                 (f"join buffer {t.using_join_buffer}", bool(t.using_join_buffer))) if on]
        if t.operation:
            flags.insert(0, t.operation)
        if flags:
            text.append("  [" + ", ".join(visible(f) for f in flags) + "]", style="magenta")
        if t.message:
            text.append(f"  {visible(t.message)}", style="italic")
        if t.attached_condition:
            text.append(f"\nwhere {visible(t.attached_condition)}", style="dim")
        return text
    style = {"block": "bold blue", "message": "italic", "operation": "magenta"}.get(node.kind, "")
    text.append(visible(node.label), style=style)
    if node.details.get("cost") is not None:
        text.append(f"  cost {node.details['cost']:,.2f}", style="dim")
    return text


def plan_tree(plan: Plan) -> Tree:
    """The plan as a rich Tree (tables in join order under their operations and blocks)."""
    title = Text("plan", style="bold")
    if plan.query_cost is not None:
        title.append(f"  cost {plan.query_cost:,.2f}", style="dim")
    title.append(f"  ~{plan.rows_examined_estimate:,.0f} rows examined (estimate)", style="dim")
    if plan.explained_as_select:
        title.append("  explained as the equivalent SELECT", style="yellow")
    tree = Tree(title)

    def add(parent: Tree, node: PlanNode) -> None:
        for child in node.children:
            add(parent.add(_node_text(child)), child)

    add(tree, plan.root)
    analyze_tree = plan.root.details.get("analyze_tree")
    if analyze_tree:
        tree.add(Text(visible(str(analyze_tree)), style="cyan"))
    return tree


def _findings_table(findings: list[Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("Check", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Finding")
    for f in findings:
        body = Text(visible(f.message))
        if f.fix:
            body.append("\nfix: ", style="bold green")
            body.append(visible(f.fix))
        table.add_row(Text(f"{f.check} {f.name}"), Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")), body)
    return table


def _suggestions_table(advice: Advice) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("Index")
    table.add_column("Classes", justify="right")
    table.add_column("Est. time saved", justify="right")
    table.add_column("Rows before → after", justify="right")
    table.add_column("Verified")
    for n, s in enumerate(advice.indexes.suggestions, 1):
        est = s.estimate()
        label = Text(f"{visible(s.table.full_name)} ({visible(', '.join(s.columns))})")
        for w in s.warnings:
            label.append(f"\n{visible(w)}", style="yellow")
        if advice.verification is None and s.may_change:
            ids = ", ".join(c[:12] for c in s.may_change[:4]) + (", ..." if len(s.may_change) > 4 else "")
            label.append(f"\nmay change the plans of {len(s.may_change)} other "
                         f"class{'es' if len(s.may_change) > 1 else ''} reading {visible(s.table.name)}: {ids} "
                         "(--verify checks them)", style="dim")
        if s.verified is False and s.verification_note.startswith("left out"):
            label.append(f"\n{visible(s.verification_note)}", style="red")
        rows = f"{est['rows_before']:,.0f} → {est['rows_after']:,.0f}"
        if "verified_rows_before" in est:
            rows += f"\nEXPLAIN: {est['verified_rows_before']:,.0f} → {est['verified_rows_after']:,.0f}"
        actual = _actual_rows(s)
        if actual is not None:
            rows += f"\nread: {actual[0]:,.0f} → {actual[1]:,.0f}"
        verified = {None: Text("no", style="dim"), True: Text("yes", style="green"),
                    False: Text("not chosen", style="red")}[s.verified]
        table.add_row(str(n), label, str(len(s.classes)), f"{s.time_saved:,.3f} s", rows, verified)
    return table


def _actual_rows(s: Any) -> tuple[float, float] | None:
    """Rows really read before and after by the suggestion's classes (ANALYZE on the scratch copy)."""
    pairs = [(c.actual_rows_before, c.actual_rows_after) for c in s.classes
             if c.actual_rows_before is not None and c.actual_rows_after is not None]
    if not pairs:
        return None
    return sum(b for b, _ in pairs), sum(a for _, a in pairs)


def _protection_lines(advice: Advice) -> list[tuple[str, str, str]]:
    """(class, what went wrong, what was done) of every class the verification protected."""
    v = advice.verification
    if v is None:
        return []
    out = []
    for p in v.protected:
        cause = f"with {p.index} it {p.worse}" if p.index else f"it {p.worse}"
        out.append((f"{p.class_id[:12]} {p.fingerprint}", f"{cause} (plan: {p.plan_worse}; before: {p.plan_before})",
                    f"{p.action}" + (f"; now it {p.plan_after}" if p.resolved and p.plan_after else "")))
    return out


def _verification_summary(advice: Advice) -> str:
    v = advice.verification
    if v is None:
        return ""
    how = "rows really read, measured with ANALYZE on the copy" if v.measured else "EXPLAIN estimates"
    text = f"{v.classes_checked} explained classes compared without and with the whole set ({how})"
    return text + (f"; {len(v.protected)} protected" if v.protected else "; none got worse")


def advice_terminal(advice: Advice, console: Console, *, title: str = "mqa advise", subtitle: str = "",
                    statement: str | None = None, details: int = 5) -> None:
    head = Text(title, style="bold")
    if subtitle:
        head.append("  " + visible(subtitle))
    for note in advice.notes:
        head.append("\nnote: ", style="yellow")
        head.append(visible(note))
    console.print(Padding(head, (1, 0, 1, 0)))
    if statement is not None and advice.classes:
        ca = advice.classes[0]
        console.print(Text(visible(statement), style="bold"))
        if ca.plan is not None:
            console.print(plan_tree(ca.plan))
        elif ca.explain_note:
            console.print(Text(f"not explained: {visible(ca.explain_note)}", style="yellow"))
        console.print()
        if ca.findings:
            console.print(_findings_table(ca.findings))
        else:
            console.print(Text("No findings.", style="green"))
    else:
        shown = [c for c in advice.classes if c.findings or c.plan is not None][:details]
        for rank, ca in enumerate(shown, 1):
            _class_section(console, rank, ca)
    console.print()
    if advice.indexes.suggestions:
        console.print(Text("Index suggestions", style="bold"))
        console.print(_suggestions_table(advice))
        console.print()
        console.print(Text("DDL (mqa never runs it unless --apply is given):", style="bold"))
        for ddl in advice.indexes.ddl_statements():
            console.print(Text(ddl + ";"))
    else:
        console.print(Text("No index suggestions.", style="green"))
    if advice.indexes.no_help:
        console.print()
        console.print(Text("Where no index helps", style="bold"))
        lookups = [n for n in advice.indexes.no_help if n.reason.startswith(("primary-key lookup", "unique lookup"))]
        others = [n for n in advice.indexes.no_help if n not in lookups]
        for n in others[:20]:
            console.print(Text(f"  {n.class_id[:12]} {visible(n.table or '')}: {visible(n.reason)}"))
        if len(others) > 20:
            console.print(Text(f"  ... and {len(others) - 20} more (all of them in --format json)", style="dim"))
        if lookups:
            classes = len({n.class_id for n in lookups})
            console.print(Text(f"  {len(lookups)} table accesses of {classes} classes are primary-key or unique "
                               "lookups: already the fastest access", style="dim"))
    if advice.verification is not None:
        v = advice.verification
        console.print()
        console.print(Text(f"Verified with {v.method} ({visible(v.target)}): {len(v.writes)} statements, "
                           "all on the scratch target and cleaned up" if v.method == "scratch" else
                           f"Verified with {v.method} ({visible(v.target)})", style="dim"))
        console.print(Text(_verification_summary(advice), style="dim"))
        for who, what, done in _protection_lines(advice):
            line = Text("protected ", style="bold yellow")
            line.append(visible(who))
            line.append(f"\n  {visible(what)}", style="yellow")
            line.append(f"\n  → {visible(done)}", style="green")
            console.print(line)
        for note in v.notes:
            console.print(Text(f"note: {visible(note)}", style="yellow"))


def _class_section(console: Console, rank: int, ca: ClassAdvice) -> None:
    wc = ca.wc
    head = Text(f"#{rank} {wc.class_id[:16]}", style="bold")
    head.append(f"  {wc.count} calls, {wc.query_time_total:,.3f} s total", style="dim")
    parts: list[Any] = [head, Text(visible(wc.fingerprint or wc.sample or ""), style="dim")]
    if ca.plan is not None:
        parts.append(plan_tree(ca.plan))
    elif ca.explain_note:
        parts.append(Text(f"not explained: {visible(ca.explain_note)}", style="yellow"))
    if ca.findings:
        parts.append(_findings_table(ca.findings))
    console.print(Group(*parts))
    console.print()


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return visible(text).replace("|", "\\|").replace("\n", " ")


def _md_code(text: str) -> str:
    return "\n".join(code_block(text))


def _md_tree(node: PlanNode, depth: int = 0) -> list[str]:
    lines = []
    for child in node.children:
        lines.append("  " * depth + "- " + _md_cell(_node_text(child).plain))
        lines.extend(_md_tree(child, depth + 1))
    return lines


def advice_markdown(advice: Advice, *, title: str = "mqa advise", statement: str | None = None, details: int = 5) -> str:
    out = [f"# {title}", ""]
    for note in advice.notes:
        out.append(f"> note: {_md_cell(note)}")
    if advice.notes:
        out.append("")
    classes = advice.classes[:1] if statement is not None else \
        [c for c in advice.classes if c.findings or c.plan is not None][:details]
    for rank, ca in enumerate(classes, 1):
        if statement is None:
            out += [f"## #{rank} `{ca.wc.class_id[:16]}`: {ca.wc.count} calls, {ca.wc.query_time_total:,.3f} s", ""]
        out += [_md_code(statement if statement is not None else (ca.wc.sample or ca.wc.fingerprint)), ""]
        if ca.plan is not None:
            out += ["Plan:", "", *_md_tree(ca.plan.root), ""]
        elif ca.explain_note:
            out += [f"Not explained: {_md_cell(ca.explain_note)}", ""]
        if ca.findings:
            out += ["| Check | Severity | Finding | Fix |", "| --- | --- | --- | --- |"]
            for f in ca.findings:
                out.append(f"| {f.check} {f.name} | {f.severity} | {_md_cell(f.message)} | {_md_cell(f.fix or '')} |")
            out.append("")
    out += ["## Index suggestions", ""]
    if advice.indexes.suggestions:
        out += ["| # | Table | Columns | Classes | Est. time saved (s) | Rows before → after | Verified |",
                "| --- | --- | --- | --- | --- | --- | --- |"]
        for n, s in enumerate(advice.indexes.suggestions, 1):
            est = s.estimate()
            verified = {None: "no", True: "yes", False: "not chosen"}[s.verified]
            out.append(f"| {n} | {_md_cell(s.table.full_name)} | {_md_cell(', '.join(s.columns))} | {len(s.classes)} | "
                       f"{s.time_saved:,.3f} | {est['rows_before']:,.0f} → {est['rows_after']:,.0f} | {verified} |")
        out += ["", "```sql", *[d + ";" for d in advice.indexes.ddl_statements()], "```", ""]
    else:
        out += ["No index suggestions.", ""]
    if advice.verification is not None:
        out += ["## Verification", "", _md_cell(_verification_summary(advice)), ""]
        for who, what, done in _protection_lines(advice):
            out.append(f"- protected `{_md_cell(who[:12])}` {_md_cell(who[13:])}: {_md_cell(what)}; "
                       f"**{_md_cell(done)}**")
        out.append("")
    if advice.indexes.no_help:
        out += ["## Where no index helps", ""]
        out += [f"- `{n.class_id[:12]}` {_md_cell(n.table or '')}: {_md_cell(n.reason)}" for n in advice.indexes.no_help]
        out.append("")
    return "\n".join(out) + "\n"
