"""The scorecard's charts: plain plotly.js documents that plotly itself accepts, with the figures asked for."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from audit import charts


def figures() -> dict[str, charts.Figure]:
    return {
        "channels": charts.channels(["Wizyta", "Telefon"], [0.8, None], [0.7, 0.65], "Ty", "Mediana"),
        "sections": charts.sections(["Wizyta: Powitanie", "Telefon: Rozmowa"], [0.4, 0.9]),
        "trend": charts.trend([2024, 2025], [700.5, None], [750.0, 750.0], "Punkty", "Próg"),
        "distribution": charts.distribution([610.0, 655.0, 790.0, 980.0], 790.0, 750.0, "Ty", "Instytucje",
                                            label_threshold="Próg licencji"),
    }


@pytest.mark.parametrize("name", ["channels", "sections", "trend", "distribution"])
def test_every_figure_is_one_plotly_validates(name):
    figure = figures()[name]
    go.Figure(figure)  # raises ValueError on any property plotly does not know or a value it refuses
    page_json = json.loads(str(charts.as_json(figure)))
    assert page_json["data"] == figure["data"] and page_json["config"] == charts.CONFIG


def test_the_distribution_counts_every_peer_once_and_names_the_threshold_in_the_legend():
    figure = figures()["distribution"]
    bars, line = figure["data"]
    assert sum(bars["y"]) == 4
    assert line["x"] == [750.0, 750.0] and line["name"] == "Próg licencji" and line["showlegend"]
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["Ty"]


def test_no_text_can_end_the_script_element_it_is_embedded_in():
    figure = charts.sections(["</script><script>alert(1)</script>"], [0.5])
    assert "</script>" not in str(charts.as_json(figure))
