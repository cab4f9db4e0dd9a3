"""Reports: registry, runner (papermill), HTML rendering, publishing and the index."""
