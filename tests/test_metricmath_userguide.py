"""Metric math against the CloudWatch User Guide, "Using metric math" — one case per documented statement.

Source: the page as published in awsdocs/amazon-cloudwatch-user-guide, ``doc_source/using-metric-math.md``
(commit 20a560c12498bb7fdbd1325e1c1415367dc601bf). Each case quotes the sentence or the example it rests on; the
expected values are worked by hand from that sentence, not from the evaluator. Where the page is silent (MIN, MAX
and STDDEV over an array with a missing value) the module docstring says what is done.
"""

import numpy as np
import pandas as pd
import pytest

from rtanalytics.metricmath import Evaluator, MathError, _Array, check, evaluate

N = np.nan
IDX = pd.date_range("2026-11-02 00:00", periods=5, freq="60s", tz="UTC")


def ts(*vals, index=IDX):
    return pd.Series([float(v) for v in vals], index=index[:len(vals)])


BASE = {"m1": ts(10, 20, N, 40, 50), "m2": ts(5, N, 15, 0, 25), "m3": ts(2, 2, 2, 2, N)}
PERIODS = {"m1": 60, "m2": 60, "m3": 60}
# the page's comparison example: metric1 [30, 20, 0, 0], metric2 [20, -, 20, -]
CMP = {"metric1": ts(30, 20, 0, 0), "metric2": ts(20, N, 20, N)}
# the page's IF tables: metric1 [1, 1, 0, 0, -], metric2 [30, -, 0, 0, 30], metric3 [0, 0, 20, -, 20]
IFS = {"metric1": ts(1, 1, 0, 0, N), "metric2": ts(30, N, 0, 0, 30), "metric3": ts(0, 0, 20, N, 20)}
NAMED = {"errors4xx": ts(1, 2, 3, 4, 5), "errors5xx": ts(0, 1, N, 1, 0), "requests": ts(100, 100, 100, 100, 100)}
M4 = {"m4": ts(1.5, -1.5, N, 2.0, 0.2)}


def run(expr, data=BASE, metric_ids=None, periods=PERIODS):
    return Evaluator(data, periods, metric_ids, "expression", IDX)(expr)


def vals(expr, data=BASE, **kw):
    return evaluate(expr, data, kw.get("periods", PERIODS), kw.get("metric_ids"), index=IDX).tolist()


def same(a, b):
    return np.allclose(np.array(a, dtype=float), np.array(b, dtype=float), equal_nan=True)


CASES = [
    # --- "Metric math syntax and functions"
    ("m1+m2", BASE, [15, 20, 15, 40, 75],
     "use the value shown in the Id column: for example, m1+m2 or e1-MIN(e1)"),
    ("m1-MIN(m1)", BASE, [0, 10, N, 30, 40], "m1-MIN(m1)"),
    ("m1-AVG(m1)", BASE, [-20, -10, N, 10, 20],
     "you could use it in the function m1-AVG(m1) to display a time series of the difference between each "
     "individual data point and the average value"),
    ("SUM(METRICS())", BASE, [17, 22, 17, 42, 75],
     "the expression SUM(METRICS()) returns a time series (TS) that is the sum of the values of all the graphed "
     "metrics"),
    ('SUM(METRICS("errors"))', NAMED, [1, 3, 3, 5, 5],
     "SUM(METRICS(\"errors\")) returns a time series that is the sum of the values of all the graphed metrics that "
     "have 'errors' in their Id field"),
    ('SUM([METRICS("4xx"), METRICS("5xx")])', NAMED, [1, 3, 3, 5, 5],
     "You can also use SUM([METRICS(\"4xx\"), METRICS(\"5xx\")]) to match multiple strings"),
    # --- "Basic arithmetic functions"
    ("m1 * PERIOD(m1)/60", BASE, [10, 20, N, 40, 50], "Examples: PERIOD(m1)/60"),
    ("5 * m1", BASE, [50, 100, N, 200, 250], "Examples: 5 * m1"),
    ("m1 - m2", BASE, [5, 20, -15, 40, 25],
     "Examples: m1 - m2 / Missing values in a time series are treated as 0."),
    ("m1/m2", BASE, [2, N, 0, N, 2],
     "If the value of a data point causes a function to attempt to divide by zero, the data point is dropped."),
    ("SUM(100/[m1, m2])", BASE, [30, 5, 100 / 15, 2.5, 6], "Examples: SUM(100/[m1, m2])"),
    ("AVG([m1,m2]/m3)", BASE, [3.75, 5, 3.75, 10, N], "Examples: AVG([m1,m2]/m3)"),
    ("SUM(METRICS()*100)", BASE, [1700, 2200, 1700, 4200, 7500], "Examples: METRICS()*100"),
    ("-5*m1", BASE, [-50, -100, N, -200, -250], "Unary subtraction: -5*m1"),
    ("-m1", BASE, [-10, -20, N, -40, -50], "Unary subtraction: -m1"),
    ("SUM(-[m1, m2])", BASE, [-15, -20, -15, -40, -75], "Unary subtraction: SUM(-[m1, m2])"),
    # --- "Comparison and logical operators"
    ("(metric1 < metric2)", CMP, [0, 0, 1, 0], "(metric1 < metric2) -> 0, 0, 1, 0"),
    ("(metric1 >= 30)", CMP, [1, 0, 0, 0], "(metric1 >= 30) -> 1, 0, 0, 0"),
    ("(metric1 > 15 AND metric2 > 15)", CMP, [1, 0, 0, 0], "(metric1 > 15 AND metric2 > 15) -> 1, 0, 0, 0"),
    ("(metric1 > 15 && metric2 > 15)", CMP, [1, 0, 0, 0], "Logical operators: AND or &&"),
    ("(metric1 > 25 OR metric2 > 15)", CMP, [1, 0, 1, 0], "Logical operators: OR or ||"),
    ("(metric1 > 25 || metric2 > 15)", CMP, [1, 0, 1, 0], "Logical operators: OR or ||"),
    ("metric1 == metric2", CMP, [0, 0, 0, 1],
     "When comparison operators are used between two time series, and only one of the time series has a value "
     "for a particular time stamp, the function treats the missing value in the other time series as 0."),
    ("metric1 != 20", CMP, [1, 0, 1, 1], "Comparison operators: == != <= >= < >"),
    ("metric1 * (1 < 2)", CMP, [30, 20, 0, 0],
     "If you use a comparison operator on a pair of scalar values, a single scalar value is returned, either 0 or 1."),
    ("metric1 * (3 <= 2)", CMP, [0, 0, 0, 0], "a single scalar value is returned, either 0 or 1"),
    # --- "Functions supported for metric math"
    ("ABS(m1-m2)", BASE, [5, 20, 15, 40, 25], "ABS: ABS(m1-m2)"),
    ("MIN(ABS([m1, m2]))", BASE, [5, 20, 15, 0, 25], "ABS: MIN(ABS([m1, m2]))"),
    ("SUM(ABS(METRICS()))", BASE, [17, 22, 17, 42, 75], "ABS: ABS(METRICS())"),
    ("SUM([m1,m2])/AVG(m2)", BASE, [15 / 11.25, 20 / 11.25, 15 / 11.25, 40 / 11.25, 75 / 11.25],
     "AVG: SUM([m1,m2])/AVG(m2)"),
    ("AVG(METRICS())", BASE, [17 / 3, 22 / 3, 17 / 3, 42 / 3, 25],
     "The AVG of an array of time series returns a single time series. Missing values are treated as 0."),
    ("CEIL(m4)", M4, [2, -1, N, 2, 1], "The ceiling is the smallest integer greater than or equal to each value."),
    ("SUM(CEIL([m4, m4]))", M4, [4, -2, N, 4, 2], "CEIL: SUM(CEIL(METRICS()))"),
    ("FLOOR(m4)", M4, [1, -2, N, 2, 0], "The floor is the largest integer less than or equal to each value."),
    ("m1 - SUM(m1) / DATAPOINT_COUNT(m1)", BASE, [-20, -10, N, 10, 20],
     "DATAPOINT_COUNT: Returns a count of the data points that reported values. SUM(m1) / DATAPOINT_COUNT(m1)"),
    ("DATAPOINT_COUNT(METRICS())", BASE, [3, 2, 2, 3, 2], "DATAPOINT_COUNT: TS[] -> TS; DATAPOINT_COUNT(METRICS())"),
    ("DIFF(m1)", BASE, [N, 10, N, 20, 10],
     "Returns the difference between each value in the time series and the preceding value from that time series."),
    ("DIFF_TIME(m1)", BASE, [N, 60, N, 120, 60],
     "Returns the difference in seconds between the timestamp of each value in the time series and the timestamp "
     "of the preceding value"),
    ("FILL(m1,10)", BASE, [10, 20, 10, 40, 50], "FILL: FILL(m1,10)"),
    ("SUM(FILL(METRICS(), 0))", BASE, [17, 22, 17, 42, 75], "FILL: FILL(METRICS(), 0)"),
    ("MAX(FILL(METRICS(), m1))", BASE, [10, 20, 15, 40, 50], "FILL: FILL(METRICS(), m1)"),
    ("FILL(m1, MIN(m1))", BASE, [10, 20, 10, 40, 50], "FILL: FILL(m1, MIN(m1))"),
    ("FILL(m1, REPEAT)", BASE, [10, 20, 20, 40, 50], "FILL: FILL(m1, REPEAT)"),
    ("FIRST(FILL(METRICS(), LINEAR))", BASE, [10, 20, 30, 40, 50], "FILL: FILL(METRICS(), LINEAR)"),
    ("IF(FIRST(SORT(METRICS(), AVG, DESC))>30, 1, 0)", BASE, [0, 0, N, 1, 1],
     "IF(FIRST(SORT(METRICS(), AVG, DESC))>100, 1, 0) Looks at the top metric from an array, which is sorted by AVG"),
    ("LAST(SORT(METRICS(), AVG, DESC))", BASE, [2, 2, 2, 2, N], "Returns the first or last time series from an array"),
    ("SUM(LOG(METRICS()))", {"a": ts(1, np.e, N, 1, 1)}, [0, 1, N, 0, 0],
     "The LOG of a time series returns the natural logarithm value of each value in the time series."),
    ("LOG10(m1)", BASE, [1, np.log10(20), N, np.log10(40), np.log10(50)],
     "The LOG10 of a time series returns the base-10 logarithm value of each value in the time series."),
    ("MAX(m1)/m1", BASE, [5, 2.5, N, 1.25, 1], "MAX: MAX(m1)/m1"),
    ("MAX(METRICS())", BASE, [10, 20, 15, 40, 50],
     "The MAX value of an array of time series returns a single time series."),
    ("m1/METRIC_COUNT(METRICS())", BASE, [10 / 3, 20 / 3, N, 40 / 3, 50 / 3],
     "METRIC_COUNT: Returns the number of metrics in the time series array. m1/METRIC_COUNT(METRICS())"),
    ("MIN(METRICS())", BASE, [2, 2, 2, 0, 25], "The MIN of an array of time series returns a single time series."),
    ("m1/PERIOD(m1)", BASE, [10 / 60, 20 / 60, N, 40 / 60, 50 / 60],
     "PERIOD: Returns the period of the metric in seconds. m1/PERIOD(m1)"),
    ("RATE(m1)", BASE, [N, 10 / 60, N, 20 / 120, 10 / 60],
     "the difference between the latest data point value and the previous data point value, divided by the time "
     "difference in seconds between the two values"),
    ("SUM(RATE(METRICS()))", {"a": ts(0, 60, 120, 180, 240)}, [N, 1, 1, 1, 1], "RATE: RATE(METRICS())"),
    ("FIRST(RUNNING_SUM([m1,m2]))", BASE, [10, 30, N, 70, 120], "RUNNING_SUM: RUNNING_SUM([m1,m2])"),
    ("LAST(RUNNING_SUM([m1,m2]))", BASE, [5, N, 20, 20, 45],
     "Returns a time series with the running sum of the values in the original time series."),
    ("FIRST(SLICE(SORT(METRICS(), SUM, DESC), 0, 10))", BASE, [10, 20, N, 40, 50],
     "SLICE(SORT(METRICS(), SUM, DESC), 0, 10) returns the 10 metrics ... that have the highest SUM value"),
    ("FIRST(SLICE(SORT(METRICS(), AVG, ASC), 1))", BASE, [5, N, 15, 0, 25],
     "SLICE(SORT(METRICS(), AVG, ASC), 5) sorts the array of metrics by the AVG statistic, then returns all the "
     "time series except for the 5 with the lowest AVG"),
    ("LAST(SORT(METRICS(), MAX, ASC))", BASE, [10, 20, N, 40, 50],
     "SORT(METRICS(), MAX, ASC) sorts the array of metrics by the MAX statistic, then returns all of them in "
     "ascending order"),
    ("LAST(SORT(METRICS(), AVG, DESC, 2))", BASE, [5, N, 15, 0, 25],
     "SORT(METRICS(), AVG, DESC, 10) ... returns only the 10 time series with the highest averages"),
    ("m1/STDDEV(m1)", BASE, [10 / np.sqrt(250), 20 / np.sqrt(250), N, 40 / np.sqrt(250), 50 / np.sqrt(250)],
     "The STDDEV of a single time series returns a scalar representing the standard deviation of all data points"),
    ("STDDEV([m1, m1])", BASE, [0, 0, N, 0, 0], "STDDEV: STDDEV(METRICS())"),
    ("SUM(METRICS())/SUM(m1)", BASE, [17 / 120, 22 / 120, 17 / 120, 42 / 120, 75 / 120],
     "SUM: SUM(METRICS())/SUM(m1)"),
    ('SUM(METRICS("errors"))/SUM(METRICS("requests"))*100', NAMED, [1, 3, 3, 5, 5],
     "SUM: SUM(METRICS(\"errors\"))/SUM(METRICS(\"requests\"))*100"),
    ("TIME_SERIES(MAX(m1))", BASE, [50] * 5, "Returns a non-sparse time series where every value is set to a scalar"),
    ("TIME_SERIES(5*AVG(m1))", BASE, [150] * 5, "TIME_SERIES(5*AVG(m1))"),
    ("TIME_SERIES(10)", BASE, [10] * 5, "TIME_SERIES(10)"),
    # --- "Using IF expressions"
    ("IF(metric1, metric2, metric3)", IFS, [30, 0, 20, N, N], "IF(metric1, metric2, metric3) -> [30, 0, 20, -, -]"),
    ("IF(metric1, 5, metric3)", IFS, [5, 5, 20, N, N], "IF(metric1, scalar2, metric3) -> [5, 5, 20, -, -]"),
    ("IF(metric1, metric2, 5)", IFS, [30, 0, 5, 5, N], "IF(metric1, metric2, scalar3) -> [30, 0, 5, 5, -]"),
    ("IF(metric1, metric2)", IFS, [30, 0, N, N, N],
     "is dropped, if the corresponding data point of metric1 is FALSE and ... metric3 is omitted from the expression"),
    ("IF(1, metric2, metric3)", IFS, [30, N, 0, 0, 30], "IF(scalar1, metric2, metric3): has the value of metric2, "
                                                       "if scalar1 is TRUE"),
    ("IF(0, metric2, metric3)", IFS, [0, 0, 20, N, 20], "has the value of metric3, if scalar1 is FALSE"),
    ("IF(0, metric2)", IFS, [N] * 5, "is an empty time series, if metric3 is omitted from the expression"),
    ("IF(metric2 > 10, 1, 2)", IFS, [1, N, 2, 2, 1], "IF(TS Comparison Operator S, S | TS, S | TS)"),
    ("IF(metric3 < 400, metric3)", IFS, [0, 0, 20, N, 20], "To display only the low values: IF(metric1<400, metric1)"),
    ("IF(metric2<10, 10, 2)", IFS, [2, N, 10, 10, 2], "IF(metric1<400, 10, 2)"),
    ("IF(metric2>metric3, 1, 0)", IFS, [1, 0, 0, 0, 1], "IF(latency>threshold, 1, 0)"),
    ("IF(metric1 * -3, 7, 8)", IFS, [7, 7, 8, 8, N],
     "The condition evaluates to FALSE if the value of the condition data point is 0, and to TRUE if the value of "
     "the condition is any other value, whether that value is positive or negative."),
]


@pytest.mark.parametrize("expr, data, expected, sentence", CASES, ids=[c[0] for c in CASES])
def test_the_user_guide_statement_holds(expr, data, expected, sentence):
    got = vals(expr, data)[:len(expected)]
    assert same(got, expected), (expr, got, sentence)


def test_arrays_are_what_the_page_says():
    # "METRICS()/100 returns an array of time series, each of which is a time series showing each data point of one
    # of the metrics divided by 100."
    arr = run("METRICS()/100")
    assert isinstance(arr, _Array) and len(arr) == 3
    assert same(arr[1].tolist(), [0.05, N, 0.15, 0, 0.25])
    # "The METRICS() function returns all the metrics in the request. Math expressions aren't included."
    data = {**BASE, "e1": ts(1, 1, 1, 1, 1)}
    assert same(vals("m1/METRIC_COUNT(METRICS())", data, metric_ids=["m1", "m2", "m3"]),
                [10 / 3, 20 / 3, N, 40 / 3, 50 / 3])
    # "Removes any time series that have no data points from an array of time series."
    data = {**BASE, "m5": ts(N, N, N, N, N)}
    assert run("METRIC_COUNT(REMOVE_EMPTY(METRICS()))", data) == 3.0
    assert run("METRIC_COUNT(METRICS())", data) == 4.0
    # "ABS(METRICS())", "CEIL(METRICS())", "LOG(METRICS())": TS[] -> TS[]
    assert all(isinstance(run(f"{f}(METRICS())"), _Array) for f in ("ABS", "CEIL", "FLOOR", "LOG", "DIFF", "RATE"))


def test_date_functions_give_non_sparse_series():
    # "These functions take the period and range of the time series and return a new non-sparse time series where
    # each value is based on its timestamp." "IF(DAY(m1)<6,m1) returns metrics only from weekdays, Monday to
    # Friday." "IF(MONTH(m1) == 4,m1) returns only metrics published in April."
    days = pd.date_range("2026-03-28 13:45", periods=10, freq="1D", tz="UTC")  # Saturday 28 March .. 6 April
    d = pd.Series(np.arange(10, dtype=float), index=days).where(lambda s: s != 4)  # a gap on Wednesday 1 April
    ev = Evaluator({"m1": d}, {"m1": 86400}, ["m1"], "expression", days)
    assert ev("DAY(m1)").tolist() == [6, 7, 1, 2, 3, 4, 5, 6, 7, 1]
    assert ev("MINUTE(m1)").tolist() == [45] * 10 and ev("HOUR(m1)").tolist() == [13] * 10
    assert ev("DATE(m1)").tolist() == [28, 29, 30, 31, 1, 2, 3, 4, 5, 6]
    assert ev("MONTH(m1)").tolist() == [3] * 4 + [4] * 6 and ev("YEAR(m1)").tolist() == [2026] * 10
    assert ev("EPOCH(m1)").iloc[0] == days[0].timestamp()
    # the Wednesday without a datapoint is 0: IF's "has the value of 0, if the corresponding data point of
    # metric1 is TRUE and the corresponding data point does not exist in metric2"
    weekdays = ev("IF(DAY(m1)<6,m1)")
    assert same(weekdays.tolist(), [N, N, 2, 3, 0, 5, 6, N, N, 9])
    assert same(ev("IF(MONTH(m1) == 4,m1)").tolist(), [N] * 4 + [0, 5, 6, 7, 8, 9])


@pytest.mark.parametrize("expr, says, sentence", [
    ("AVG(m1)", "gives a single number",
     "taking the AVG of a single time series produces a scalar number, so it can't be the final expression result"),
    ("PERIOD(m1)/60", "gives a single number",
     "Using a function that returns only a scalar number is not valid, as all final results of expressions must be "
     "a single time series or an array of time series."),
    ("sum(m1)", "written in upper case", "All functions must be written in uppercase letters (such as AVG)"),
    ("Avg(m1)", "written in upper case", "Enter all functions in uppercase letters."),
    ("M1 * 2", "starts with a lower-case letter", "the Id field for all metrics and math expressions must start "
                                                  "with a lowercase letter"),
    ("PERIOD(e1)", "Valid input is metrics", "PERIOD: Valid input is metrics, not the results of other expressions."),
    ("SEARCH('{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\"', 'Average')", "SEARCH is not supported",
     "You can't create an alarm based on a SEARCH expression."),
    ("ANOMALY_DETECTION_BAND(m1)", "ANOMALY_DETECTION_BAND is not supported", "ANOMALY_DETECTION_BAND(m1)"),
    ("ANOMALY_DETECTION_BAND(m1,4)", "ThresholdMetricId", "ANOMALY_DETECTION_BAND(m1,4)"),
    ("LAST(ANOMALY_DETECTION_BAND(m1))", "ANOMALY_DETECTION_BAND is not supported",
     "LAST(ANOMALY_DETECTION_BAND(m1)) returns the lower bound of the anomaly prediction band."),
    ("INSIGHT_RULE_METRIC('rule', 'UniqueContributors')", "INSIGHT_RULE_METRIC is not supported",
     "Use INSIGHT_RULE_METRIC to extract statistics from a rule in Contributor Insights."),
    ("SERVICE_QUOTA(m1)", "SERVICE_QUOTA is not supported", "Returns the service quota for the given usage metric."),
    ("SUM(METRICS()) + METRICS()", "gives 3 time series",
     "an alarm based on a math expression can watch only one time series"),
    ("SQRT(m1)", "SQRT is not a CloudWatch metric math function", "The following table describes the functions"),
])
def test_what_cloudwatch_refuses_is_refused_by_name(expr, says, sentence):
    data = {**BASE, "e1": ts(1, 1, 1, 1, 1)}
    with pytest.raises(MathError, match=says.replace("(", r"\(")):
        evaluate(expr, data, PERIODS, ["m1", "m2", "m3"], index=IDX)


def test_check_refuses_before_anything_is_fetched():
    check("m1-AVG(m1)")
    check("(m1/1048576)")  # six public CloudFormation alarms convert bytes this way
    for bad, says in [("SEARCH('{AWS/EC2} CPU', 'Average')", "SEARCH is not supported"),
                      ("FOO(m1)", "FOO is not a CloudWatch"), ("sum(m1)", "upper case")]:
        with pytest.raises(MathError, match=says):
            check(bad)


def test_ids_may_hold_digits_and_underscores():
    # "It can include numbers, letters, an underscore, and must start with a lowercase letter."
    data = {"error_count_5xx": ts(1, 2, 3), "reqTotal2": ts(10, 10, 10)}
    assert same(evaluate("error_count_5xx/reqTotal2*100", data, index=IDX[:3]).tolist(), [10, 20, 30])
