"""Test isolation for the whole suite (tests/ and the nbval run over notebooks/): outputs, health history,
ledger and cache go to a throwaway folder, never into the checkout's outputs/ or .cache/ — set before any
rtanalytics module is imported, and inherited by the notebook kernels nbval starts."""

import os
import tempfile

_SANDBOX = tempfile.mkdtemp(prefix="rtanalytics-tests-")
os.environ["RTANALYTICS_OUTPUTS"] = os.path.join(_SANDBOX, "outputs")
os.environ["RTANALYTICS_CACHE"] = os.path.join(_SANDBOX, "cache")
os.environ["RTANALYTICS_TEST_SANDBOX"] = _SANDBOX
