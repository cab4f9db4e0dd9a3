# Two commands from a fresh clone: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lab bench eval screenshot constraints clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	@# rfc3987-syntax (pulled in by jupyterlab) costs 2-3 s at every papermill/nbconvert import: see bench/README.md
	-$(PY) -m pip uninstall -y -q rfc3987-syntax
	touch $(STAMP)

demo: $(STAMP)
	@# exit 4 = every report rendered, some partial (their pages say what is missing): the demo still succeeds
	$(VENV)/bin/rtanalytics run --all --no-progress || [ $$? -eq 4 ]
	@echo "open: $(CURDIR)/outputs/index.html"

test: $(STAMP)
	@# nbval runs the notebooks as the wheel ships them, in a venv outside the checkout (tests/test_install.py)
	$(PY) -m pytest -q tests -p no:cacheprovider

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(STAMP)
	$(PY) bench/demo_generation.py
	$(PY) bench/run_overhead.py
	$(PY) bench/fetch.py
	$(PY) bench/latency.py
	$(PY) bench/cache.py
	$(PY) bench/alarms.py
	$(PY) bench/slo.py
	$(PY) bench/capacity.py
	$(PY) bench/eval_anomaly.py
	$(PY) bench/eval_templates.py
	$(PY) bench/eval_capacity.py

eval: $(STAMP)
	@# accuracy on real labelled data (../shared/realdata, or RTANALYTICS_REALDATA): NAB anomalies, loghub templates,
	@# NAB capacity forecasts — each through the report's own path, with held-out figures where anything was tuned
	$(PY) bench/eval_anomaly.py
	$(PY) bench/eval_templates.py
	$(PY) bench/eval_capacity.py

screenshot: demo
	@# a screenshot of every report's latest run and the index into docs/screenshots/ (headless chromium)
	$(PY) tools/screenshot.py --all

constraints:
	$(PY) -m pip freeze --exclude-editable | grep -v '^rtanalytics' > constraints.txt

clean:
	rm -rf $(VENV) outputs/*/ outputs/index.html
