"""Terminal views of predictions (rich)."""
from __future__ import annotations

from data.schema import LabelSchema

COLOURS = {"favor": "green", "against": "red"}


def render_sentences(console, rows: list[dict], schema: LabelSchema, title: str | None = None) -> None:
    """One block per sentence: its text, stance labels with confidence, frames as tags, and the
    words that pushed each predicted label most (when the rows carry explanations)."""
    from rich.panel import Panel
    from rich.text import Text

    if title:
        console.rule(title)
    for row in rows:
        head = Text()
        for f, target in zip(schema.stance_fields, schema.targets):
            value = row[f]
            style = COLOURS.get(value, "dim")
            head.append(f"{target}: ", style="bold")
            head.append(f"{value} {row['probabilities'][f][value]:.2f}", style=style)
            head.append("   ")
        for fr in row["frames"]:
            head.append(f" #{fr} {row['probabilities']['frames'][fr]:.2f} ", style="black on cyan")
            head.append(" ")
        body = Text(row["text"])
        for head_name, per_label in (row.get("explanation") or {}).items():
            for label, words in per_label.items():
                if words:
                    name = head_name.removeprefix("stance_")
                    body.append(f"\n  {name}={label} because: ", style="italic dim")
                    body.append(", ".join(w for w, _ in words), style=COLOURS.get(label, "cyan"))
        console.print(Panel(body, title=head, title_align="left", subtitle=f"#{row.get('index', '')}", subtitle_align="right"))
