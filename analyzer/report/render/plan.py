"""A plan node as one line of styled text, shared by the renderers (the terminal prints the
styles; Markdown and HTML take the plain text)."""

from __future__ import annotations

from rich.text import Text

from analyzer.report.text import visible
from analyzer.sources.explain import PlanNode


def node_text(node: PlanNode) -> Text:
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
        flags = [
            f
            for f, on in (
                ("covering", t.using_index),
                ("filesort", t.using_filesort),
                ("temporary", t.using_temporary),
                ("dependent", t.dependent),
                (f"join buffer {t.using_join_buffer}", bool(t.using_join_buffer)),
            )
            if on
        ]
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
