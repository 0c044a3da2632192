"""Words beside the network landscape: the legend (each run's marker shape in its colour),
the one-line summary and the tooltip that says what a projection can and cannot show."""

from __future__ import annotations

from html import escape

from gui.palette import Theme
from gui.training.network_map import PathStyle

#: The marker shapes as characters, for the legend above the map.
SYMBOL_TEXT = {"o": "●", "s": "■", "d": "◆", "t1": "▲", "t": "▼", "t2": "▶", "t3": "◀",
               "p": "⬟", "h": "⬢", "star": "★", "plus": "✚", "bowtie": "⧓"}


def legend_html(styles: list[PathStyle], statuses, theme: Theme) -> str:
    """Each run's marker shape in its colour and its name (escaped: names carry settings);
    a run that did not complete says how it ended."""
    entries = []
    for style, status in zip(styles, statuses, strict=True):
        note = "" if status == "completed" else f" ({status})"
        entries.append(f'<span style="color:{escape(style.color)}; font-size:14pt">'
                       f"{SYMBOL_TEXT.get(style.marker, '●')}</span>&nbsp;"
                       f"{escape(style.label)}{escape(note)}")
    return (f'<span style="color:{escape(theme.foreground)}">'
            + "&nbsp;&nbsp;&nbsp; ".join(entries) + "</span>")


def describe(landscape) -> str:
    """What the readout says when no marker is hovered: what is drawn, and how to check it."""
    worst = max(float(off.max()) for off in landscape.off_plane)
    return (f"{sum(len(p) for p in landscape.paths)} snapshots, loss on "
            f"{landscape.n_images:,} training images. Faint markers lie far off the plane "
            f"(up to {worst:.2f}): hover one for its true loss.")


def explain(landscape) -> str:
    """The tooltip: what the plane is and why a projection can mislead."""
    kind = {"pca": "the plane of the first two principal directions of all snapshots "
                   "together (the axes say how much of their variance each holds)",
            "endpoints": "the plane through the initial weights and the first two "
                         "optimizers' final weights",
            "random": "a plane of two random, filter-normalized directions around the first "
                      "optimizer's final weights (Li et al., 2018)"}[landscape.plane.kind]
    return (f"The colours show the training loss on {kind}. The network has 101,770 weights; "
            "the plane shows two directions, so every snapshot is drawn at its nearest point "
            "on the plane. The smaller and fainter a marker, the farther the snapshot lies "
            "off the plane, and the less the colour under it tells its loss: hover a marker "
            "to read its true loss beside the surface's.")
