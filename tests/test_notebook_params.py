"""Each report notebook's parameters cell declares exactly its schema's parameters, with the same defaults, plus
the runner's own (evidence_dir, output_dir): a drift between the two would pass validation and then break."""

import ast

import papermill as pm
import pytest

from rtanalytics.reports.registry import REPORTS

RUNNER = {"evidence_dir", "output_dir"}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_parameters_cell_matches_the_schema(name):
    report = REPORTS[name]
    declared = pm.inspect_notebook(str(report.notebook))
    fields = report.fields()
    assert set(declared) == set(fields) | RUNNER, set(declared) ^ (set(fields) | RUNNER)
    for k, f in fields.items():
        got = ast.literal_eval(declared[k]["default"])
        assert got == f.default, (k, got, f.default)
        assert declared[k]["help"], f"{k} has no help comment"
