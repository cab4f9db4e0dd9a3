"""The formatting layer every report shows its figures through (rtanalytics.present)."""

import numpy as np
import pandas as pd
import pytest

from rtanalytics import present as P


@pytest.mark.parametrize("value,text", [(0.99937, "99.94 %"), (0.99999, "99.999 %"), (1.0, "100.0 %"),
                                        (0.364375, "36.4 %"), (-0.488, "-48.8 %"), (0.0123, "1.23 %"),
                                        (np.nan, "—"), (None, "—")])
def test_ratios_read_as_percentages_with_the_digits_that_matter(value, text):
    assert P.fmt_pct(value) == text


@pytest.mark.parametrize("seconds,text", [(0.33, "330 ms"), (12.44, "12.4 s"), (950, "15.8 min"),
                                          (5 * 3600 + 12 * 60, "5 h 12 min"), (3 * 86400 + 4 * 3600, "3 d 4 h"),
                                          (0, "0 s"), (np.nan, "—")])
def test_durations_read_as_durations(seconds, text):
    assert P.fmt_duration(seconds) == text


@pytest.mark.parametrize("value,text", [(2035055.0, "2,035,055"), (15.833321, "15.83"), (2.4e4, "24,000"),
                                        (0.000123, "0.000123"), (0.0, "0")])
def test_numbers_never_show_float_noise_or_exponents(value, text):
    assert P.fmt_number(value) == text


def test_times_are_utc_to_the_minute():
    t = pd.Timestamp("2026-11-27T07:30:59.123456789-08:00")
    assert P.fmt_time(t) == "2026-11-27 15:30 UTC"


def test_table_formats_by_column_and_explains_the_em_dash():
    df = pd.DataFrame({"slo": ["availability", "<script>x</script>"], "attainment": [0.99937, 0.99],
                       "minutes_left": [15.74, np.nan],
                       "exhausted_by": pd.to_datetime(["2026-12-17T00:29Z", None], utc=True),
                       "requests": [2035055, 7], "impact": [{"failed requests": 9}, ["a", "b"]]})
    page = P.table(df).to_html()
    assert "99.94 %" in page and "15.7 min" in page and "2,035,055" in page and "2026-12-17 00:29 UTC" in page
    assert "&lt;script&gt;" in page and "<script>x" not in page  # escaped once, never raw
    assert "failed requests: 9" in page and "{'" not in page and "a, b" in page
    assert "NaN" not in page and "NaT" not in page and "—" in page
    assert "not running out at the last 24 hours" in page  # the em dash says what it means for this column
    assert 'class="row_heading' not in page  # the pandas index is hidden


def test_a_meaningful_index_becomes_a_column():
    s = pd.Series([3, 4], index=pd.Index(["TypeError", "Timeout"], name="error"), name="count")
    page = P.table(s).to_html()
    assert ">error<" in page and "TypeError" in page and ">count<" in page


def test_kinds_from_names_and_values():
    assert P.infer_kind("headroom %", pd.Series([65.8])) == "pct_number"
    assert P.infer_kind("remaining", pd.Series([0.3, -1.2])) == "pct"
    assert P.infer_kind("target", pd.Series([0.999, 0.99])) == "pct"
    assert P.infer_kind("burn_1h", pd.Series([0.4, 14.4])) == "number"
    assert P.infer_kind("lag_minutes", pd.Series([0.0, 23.0])) == "min"
    assert P.infer_kind("avg_response_s", pd.Series([0.3])) == "s"
    assert P.infer_kind("5xx", pd.Series([9, 3])) == "count"


def test_short_labels_drop_generated_ids_but_stay_unique():
    long = {"a": "DynamoDB Latency [Query Requests-aqnqdrctpzfwfjwyxxsmu6peoq-NONE]",
            "b": "DynamoDB Latency [Query Requests-zzzzdrctpzfwfjwyxxsmu6peoq-NONE]",
            "c": "Lambda Duration [Quotes-aqnqdrctpzfwfjwyxxsmu6peoq-NONE]"}
    short = P.short_labels(long)
    assert short["c"] == "Lambda Duration [Quotes]"
    assert short["a"] == long["a"] and short["b"] == long["b"]  # shortening would merge them: kept whole


def test_headline_block_escapes_and_orders_status_first():
    block = P.HeadlineBlock("partial", "Status: PARTIAL <b>", [P.Headline("k", "<i>label</i>", 0.5, "pct", "bad")])
    page = block._repr_html_()
    assert page.index("PARTIAL") < page.index("rt-figs")
    assert "&lt;i&gt;label" in page and "<i>label" not in page and "50.00 %" not in page and "50.0 %" in page


def test_a_word_where_a_number_was_expected_is_shown_as_text():
    assert P.fmt_value("unknown", "count") == "unknown"
    assert P.fmt_value("<b>", "s") == "&lt;b&gt;"


def test_decimation_keeps_spikes_dips_and_gaps():
    from rtanalytics.figures import decimate_xy

    n = 100_000
    x = np.arange(n)
    y = np.sin(np.arange(n) / 5000.0)
    y[31_337] = 50.0  # one spike
    y[77_777] = -40.0  # one dip
    y[50_000:52_000] = np.nan  # a gap wider than a bucket
    xs, ys = decimate_xy(x, y, 2000)
    assert len(ys) <= 2000 and np.all(np.diff(xs) > 0)
    assert 31_337 in xs and 77_777 in xs and np.nanmax(ys) == 50.0 and np.nanmin(ys) == -40.0
    assert np.isnan(ys[(xs >= 50_000) & (xs < 52_000)]).all() and ((xs >= 50_000) & (xs < 52_000)).any()


def test_figures_are_sent_small_with_dates_as_milliseconds():
    import plotly.graph_objects as go

    from rtanalytics.figures import _array, decimate_figure

    t = pd.date_range("2026-11-01", periods=40_000, freq="min", tz="UTC")
    fig = go.Figure([go.Scatter(x=t, y=np.arange(40_000.0)), go.Scatter(x=t[:10], y=np.arange(10.0))])
    d = decimate_figure(fig.to_dict())
    big, small = d["data"]
    assert len(_array(big["y"])) <= 2000 and d["layout"]["xaxis"]["type"] == "date"
    ms = _array(big["x"])
    assert ms[0] == t[0].value / 1e6 and ms[-1] == t[-1].value / 1e6  # first and last minute kept, exactly
    assert len(_array(small["y"])) == 10
