"""The Sankey layout: the nodes of step k are drawn in column k (Plotly placed a step-2 node
without outgoing links in the last column before the positions were fixed)."""

from __future__ import annotations

from kundresa.paths import Flows


def _flows() -> Flows:
    nodes = tuple(
        {"step": s, "label": lab, "count": c, "persons": c, "drop_off": 0}
        for s, lab, c in [
            (0, "Product Viewed", 10),
            (1, "Product Added", 6),
            (1, "Feature Used", 4),
            (2, "Order Completed", 5),
            (2, "Feature Used", 1),
            (3, "Order Completed", 1),
        ]
    )
    links = tuple(
        {"step": s, "source": a, "target": b, "count": c, "persons": c}
        for s, a, b, c in [
            (0, "Product Viewed", "Product Added", 6),
            (0, "Product Viewed", "Feature Used", 4),
            (1, "Product Added", "Order Completed", 5),
            (1, "Product Added", "Feature Used", 1),
            (2, "Order Completed", "Order Completed", 1),
        ]
    )
    return Flows("start", "Product Viewed", None, 4, 5, "session", 10, 10, nodes, links)


def test_sankey_nodes_of_step_k_in_column_k() -> None:
    fig = _flows().plot().to_dict()
    sankey = fig["data"][0]
    assert sankey["arrangement"] == "snap"
    xs = dict(zip(sankey["node"]["label"], sankey["node"]["x"], strict=True))
    columns = [0.01, 0.01 + 0.98 / 3, 0.01 + 0.98 * 2 / 3, 0.99]
    for label, x in xs.items():
        step = int(label.split(".")[0])
        assert abs(x - columns[step]) < 1e-5, (label, x)
    # "2. Feature Used" (no outgoing link) stays in column 2, not the last one
    assert xs["2. Feature Used"] < xs["3. Order Completed"]
    ys = sankey["node"]["y"]
    assert all(0 < y < 1 for y in ys)
