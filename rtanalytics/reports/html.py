"""Executed notebook → self-contained, offline HTML without code cells."""

from __future__ import annotations

import hashlib
import html
import os
import re
import threading
from pathlib import Path

import nbformat

from ..sources.cache import default_cache_dir
from .glue import SUMMARY_MIMETYPE
from .publish import atomic_write_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
_REMOTE = re.compile(r"""<(?:script|link|img)[^>]+(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


_STYLE_OPEN = '<style type="text/css">'
_STYLE_CLOSE = "</style>"
_BIG = 5000  # characters: JupyterLab's theme and nbconvert's base styles, not a report's own small ones


def _big_styles(page: str) -> list[tuple[int, int]]:
    """Spans (open tag to close tag) of the page's stylesheets of at least ``_BIG`` characters, by plain string
    search (a regular expression over a 0.5 MB page took 7 ms a pass)."""
    spans = []
    i = page.find(_STYLE_OPEN)
    while i >= 0:
        body = i + len(_STYLE_OPEN)
        j = page.find(_STYLE_CLOSE, body)
        if j < 0:
            break
        if j - body >= _BIG:
            spans.append((i, j + len(_STYLE_CLOSE)))
        i = page.find(_STYLE_OPEN, j)
    return spans


def share_styles(page: str, assets: Path, run_dir: Path | None = None) -> str:
    """The page's large stylesheets (JupyterLab's theme, ~250 KB, identical in every report) moved to one
    content-addressed file ``assets/report-<hash>.css`` linked relatively from a run folder
    (``outputs/REPORT/RUN/``); the page keeps its own small styles."""
    spans = _big_styles(page)
    if not spans:
        return page
    css = "\n".join(page[a + len(_STYLE_OPEN):b - len(_STYLE_CLOSE)] for a, b in spans)
    name = f"report-{hashlib.sha256(css.encode()).hexdigest()[:12]}.css"
    path = Path(assets) / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, css)
    href = (Path(os.path.relpath(path, run_dir)).as_posix() if run_dir is not None
            else f"../../{Path(assets).name}/{name}")
    parts, last = [], 0
    for k, (a, b) in enumerate(spans):  # the first becomes the link, the others go
        parts += [page[last:a], f'<link rel="stylesheet" href="{href}">' if k == 0 else ""]
        last = b
    parts.append(page[last:])
    return "".join(parts)


def render_html(nb, banner: str = "", title: str = "") -> str:
    """Render ``nb`` (an nbformat node) with the ``rtreport`` template: inputs and prompts hidden, nothing
    loaded from the network. ``banner`` is plain text, escaped here. The summary outputs are removed from
    ``nb`` in place (no copy of a 5 MB notebook)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if SUMMARY_MIMETYPE not in o.get("data", {})]

    # the page's <title> names the report, environment and window (nbconvert's default is "Notebook")
    res = {"rt_banner": html.escape(banner), "metadata": {"name": html.escape(title or banner or "rtanalytics")}}
    with _EXPORTER_LOCK:
        body, _ = _exporter().from_notebook_node(nb, resources=res)
    return body


_EXPORTER = None
_EXPORTER_LOCK = threading.Lock()
_WARM = False


# nbconvert's HTMLExporter re-parses every page it renders with BeautifulSoup to add two accessibility
# attributes: alt text on images without any, tabindex="0" on cell inputs and outputs. That parse (and
# compiling its CSS selectors, once) was 0.2 s of CPU in every run (0.12 s of the warm-up, 0.08 s of the
# render; bench/README.md, round eight). The same attributes are added here on the start tags the template
# wrote, outside scripts and styles: the page is what nbconvert writes, less its re-serialisation (tested: the
# two parse to the same document).
_NO_ALT = "No description has been provided for this image"
_RAW_TEXT = re.compile(r"(<(script|style)\b[^>]*>.*?</\2\s*>)", re.S | re.I)
_START_TAG = re.compile(r"<(img|div)((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)(\s*/?)>", re.I)
_CLASS = re.compile(r"""\sclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)
_HAS_ALT = re.compile(r"\salt\s*(?:=|\s|$)", re.I)
_FOCUSABLE = {"jp-Cell-inputWrapper", "jp-OutputArea-output"}


def _accessible_tag(m: re.Match) -> str:
    name, attrs, end = m.group(1), m.group(2), m.group(3)
    if name.lower() == "img":
        if _HAS_ALT.search(attrs):
            return m.group(0)
        return f'<{name}{attrs} alt="{_NO_ALT}"{end}>'
    c = _CLASS.search(attrs)
    classes = set((c.group(1) or c.group(2) or c.group(3) or "").split()) if c else ()
    if _FOCUSABLE.intersection(classes):
        return f'<{name}{attrs} tabindex="0"{end}>'
    return m.group(0)


def accessible(page: str) -> str:
    """``page`` with nbconvert's accessibility attributes added (see above); scripts and styles untouched."""
    parts = _RAW_TEXT.split(page)
    out = []
    for i in range(0, len(parts), 3):  # text, then a raw-text element and its tag name
        out.append(_START_TAG.sub(_accessible_tag, parts[i]))
        if i + 1 < len(parts):
            out.append(parts[i + 1])
    return "".join(out)


def _exporter_class():
    # lazy: nbconvert (~0.4 s) only when a report is rendered, not when the module is imported
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        """HTMLExporter.from_notebook_node (nbconvert 7) with :func:`accessible` for its BeautifulSoup pass."""

        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return accessible(page), resources

    return ReportExporter


def _template_bytecode_cache(exp) -> None:
    """Compiled templates kept between processes (jinja's bytecode cache, keyed by each template's source:
    an edited template compiles again): compiling nbconvert's and ours was 0.05 s of CPU in every run. In the
    metrics cache's folder (``$RTANALYTICS_CACHE``, else ``.cache/``), ``templates/``; without it when that
    folder cannot be written."""
    from jinja2 import FileSystemBytecodeCache  # lazy: with nbconvert, only when rendering

    folder = default_cache_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            exp.environment.bytecode_cache = FileSystemBytecodeCache(str(folder))
    except OSError:
        pass


def _exporter():
    """One HTML exporter per process, its templates compiled once (renders are serialised by the lock: they
    hold the GIL anyway)."""
    global _EXPORTER
    if _EXPORTER is None:
        exp = _exporter_class()(template_name="rtreport", extra_template_basedirs=[str(TEMPLATES)])
        _template_bytecode_cache(exp)
        exp.exclude_input = True
        exp.exclude_input_prompt = True
        exp.exclude_output_prompt = True
        _EXPORTER = exp
    return _EXPORTER


def warm_renderer() -> None:
    """Import nbconvert and compile the report templates now: the runner calls it in a thread while the kernel
    executes (the runner's process only waits then), so rendering does not pay ~0.6 s of it afterwards."""
    global _WARM
    if _WARM:  # once per process
        return
    # lazy: nbformat only when a notebook is written
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    # a cell of each kind a report has, with an HTML output naming an entity: BeautifulSoup compiles its entity
    # tables on the first one it meets (0.04 s), markdown and the output templates are loaded on first use
    nb = new_notebook(cells=[new_markdown_cell("# warm *up*"), new_code_cell("x", outputs=[new_output(
        "display_data", data={"text/html": "<p>a &amp; b &lt;c&gt;</p>", "text/plain": "a"})])])
    with _EXPORTER_LOCK:
        if not _WARM:
            _exporter().from_notebook_node(nb, resources={"rt_banner": "", "metadata": {"name": "warm"}})
            _WARM = True


def remote_references(page: str) -> list[str]:
    """Tags in ``page`` that would load something from the network (should be empty)."""
    return [m.group(0) for m in _REMOTE.finditer(page)]


def read_notebook(path: Path):
    return nbformat.read(str(path), as_version=4)
