import json

import pytest

from rtanalytics.catalog import Catalog, catalog
from rtanalytics.errors import CatalogError


def test_seed_kpis_and_environments():
    cat = catalog()
    k = cat.kpis
    assert set(k) == {"availability", "response_time", "error_rate", "throughput", "database_latency",
                      "lambda_performance", "storage_performance"}
    assert (k["availability"].target.op, k["availability"].target.value) == (">=", 99.9)
    assert (k["availability"].alert.op, k["availability"].alert.value) == ("<", 99.5)
    assert k["response_time"].alert.value == 5.0 and k["error_rate"].alert.value == 5.0
    prod = cat.environment("production")
    assert prod.region == "us-west-1"
    assert prod.resources.table_names()[0] == "Contacts-aqnqdrctpzfwfjwyxxsmu6peoq-NONE"
    assert prod.resources.lambda_functions == ["notification-processor", "user-admin", "status-processor"]


def _write(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    return Catalog(tmp_path)


def test_bad_kpi_names_the_field(tmp_path):
    cat = _write(tmp_path, "kpis.yaml", """
kpis:
  availability:
    title: A
    group: g
    measurement: m
    target: {op: "=>", value: 99.9}
    alert: {op: "<", value: 99.5}
    sli: {kind: ratio, good: [], total: []}
""")
    with pytest.raises(CatalogError) as e:
        cat.kpis
    msg = str(e.value)
    assert "kpis.yaml" in msg and "kpis.availability.target.op" in msg


def test_yaml_syntax_error_names_line(tmp_path):
    cat = _write(tmp_path, "environments.yaml", "environments:\n  demo: {source: demo\n")
    with pytest.raises(CatalogError, match="line"):
        cat.environments


def test_credentials_are_refused(tmp_path):
    cat = _write(tmp_path, "environments.yaml",
                 "environments:\n  prod:\n    source: cloudwatch\n    aws_secret_access_key: abc\n")
    with pytest.raises(CatalogError, match="credentials never go in parameters"):
        cat.environments


def test_unknown_field_is_named(tmp_path):
    cat = _write(tmp_path, "environments.yaml", "environments:\n  prod:\n    regoin: us-west-1\n")
    with pytest.raises(CatalogError, match="regoin: unknown field"):
        cat.environments


def test_bucket_and_user_pool_come_from_amplify_outputs(tmp_path, monkeypatch):
    import shutil

    import yaml

    from rtanalytics.catalog import _CACHE, catalog
    from rtanalytics.errors import CatalogError

    from .conftest import ROOT

    params = tmp_path / "parameters"
    shutil.copytree(ROOT / "parameters", params)
    (tmp_path / "amplify_outputs.json").write_text(json.dumps({
        "auth": {"user_pool_id": "us-west-1_AbC123", "aws_region": "us-west-1"},
        "storage": {"bucket_name": "amplify-realtechee-gen2-storage-1a2b3c", "aws_region": "us-west-1"}}))
    envs = yaml.safe_load((params / "environments.yaml").read_text())
    envs["environments"]["production"]["amplify_outputs"] = "../amplify_outputs.json"
    (params / "environments.yaml").write_text(yaml.safe_dump(envs))
    monkeypatch.setenv("RTANALYTICS_PARAMETERS", str(params))
    _CACHE.clear()
    try:
        r = catalog().environment("production").resources
        assert (r.s3_bucket, r.user_pool_id) == ("amplify-realtechee-gen2-storage-1a2b3c", "us-west-1_AbC123")
        envs["environments"]["production"]["amplify_outputs"] = "../nope.json"
        (params / "environments.yaml").write_text(yaml.safe_dump(envs))
        _CACHE.clear()
        with pytest.raises(CatalogError, match="environments.production.amplify_outputs"):
            catalog().environment("production")
    finally:
        _CACHE.clear()
