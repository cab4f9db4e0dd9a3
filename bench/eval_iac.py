"""Alarms imported from Terraform as teams write it: `alarms import` over a corpus of public repositories.

The corpus is not in this repository (its files are other people's code): each folder of
``$RTANALYTICS_IAC_CORPUS`` (default ``../iac-corpus`` beside the checkout) is one repository, laid out as it is
published; ``bench/README.md`` lists every repository, path and commit. Without the corpus the script says so and
exits 0.

For each repository the import runs twice, as a user would run it on a fresh clone:
* without values: the variables' defaults and the automatic ``terraform.tfvars`` / ``*.auto.tfvars`` only;
* with values: every variable without a default is given one (``--var NAME=VALUE``) made from its declared type
  (a string ``example-NAME``, a number 1, a bool true, an empty list or map) — what a team supplies.

It counts alarm resource blocks (``resource "aws_cloudwatch_metric_alarm"`` / ``..._composite_alarm``), how many
have every instance's count/for_each at zero (``inactive``: no alarm exists), how many imported at least one
alarm, how many are listed as not imported with file, line and reason (``unresolved_named``), and the folders
where the importer raised anything but its own error (``crashed``; a file Terraform itself cannot parse is
``refused``, with its file and line). Last line:
``alarms= active= imported= unresolved_named= crashed= refused= imported_pct=`` (with values).
"""

from __future__ import annotations

import os
import re
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtanalytics.errors import RtAnalyticsError  # noqa: E402
from rtanalytics.iac import import_alarms  # noqa: E402

BLOCK = re.compile(r'^[ \t]*resource[ \t]+"(aws_cloudwatch_metric_alarm|aws_cloudwatch_composite_alarm)"', re.M)
VARIABLE = re.compile(r'^[ \t]*variable[ \t]+"([^"]+)"[ \t]*\{', re.M)


def corpus_dir() -> Path:
    return Path(os.environ.get("RTANALYTICS_IAC_CORPUS") or Path(__file__).resolve().parents[2] / "iac-corpus")


def blocks(repo: Path) -> set[str]:
    out = set()
    for f in repo.rglob("*.tf"):
        if ".terraform" in f.parts:
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        for m in BLOCK.finditer(text):
            out.add(f"{f}:{text[:m.start()].count(chr(10)) + 1}")
    return out


def example_values(repo: Path) -> dict[str, str]:
    """A value for every variable declared without a default, from its type (the text after ``type =``)."""
    import hcl2

    vals = {}
    for f in repo.rglob("*.tf"):
        if ".terraform" in f.parts:
            continue
        try:
            doc = hcl2.loads(f.read_text(encoding="utf-8", errors="replace"))
        except Exception:
            continue
        for block in doc.get("variable", []) or []:
            for name, body in block.items():
                name = name.strip('"')
                if not isinstance(body, dict) or "default" in body:
                    continue
                t = str(body.get("type", "string")).strip('"').removeprefix("${").removesuffix("}")
                vals[name] = ("[]" if t.startswith(("list", "set", "tuple")) else
                              "{}" if t.startswith(("map", "object")) else
                              "1" if t == "number" else "true" if t == "bool" else f"example-{name}")
    return vals


REF = re.compile(r"^(data|module|aws_[a-z0-9_]+)\.[A-Za-z0-9_.\[\]\"-]+$")


def given_refs(repo: Path, kwargs: dict) -> dict:
    """Values for every reference left unresolved (another resource's attribute, a data source, a module output),
    as a user completing iac_values would give them; repeated while new ones appear (at most 3 rounds)."""
    values: dict = {}
    for _ in range(3):
        r = import_alarms(repo, values=values, **kwargs)
        new = {u["expression"] for u in r.unresolved if REF.match(u["expression"]) and u["expression"] not in values}
        if not new:
            break
        values |= {e: f"example-{i}" for i, e in enumerate(sorted(new), len(values))}
    return values


def run(repo: Path, with_values: bool, all_refs: bool = False) -> dict:
    total = blocks(repo)
    res = {"alarms": len(total), "inactive": 0, "imported": 0, "unresolved_named": 0, "crashed": 0, "refused": 0,
           "instances": 0, "why": []}
    try:
        # with values, as a user runs it: --var for each variable without a default, --account and --region
        kw = dict(tf_vars=example_values(repo) if with_values else None,
                  pseudo={"AWS::AccountId": "123456789012", "AWS::Region": "eu-west-1"} if with_values else None)
        r = import_alarms(repo, values=given_refs(repo, kw) if all_refs else None, **kw)
    except RtAnalyticsError as e:
        res["refused"] = 1
        res["why"].append(f"refused: {e}")
        return res
    except Exception:  # noqa: BLE001 - counting crashes is the point
        res["crashed"] = 1
        res["why"].append(traceback.format_exc(limit=3))
        return res
    imported = set(r.imported_blocks)
    named = {f"{s['file']}:{s['line']}" for s in r.skipped}
    unreadable = {u["file"] for u in r.unreadable}
    named |= {b for b in total if b.rsplit(":", 1)[0] in unreadable}  # listed with the file and the line it fails at
    res["unreadable_files"] = len(unreadable)
    res["anomaly"] = sum(1 for s in r.skipped if s["reason"].startswith("an anomaly-detection alarm"))
    # blocks Terraform (0.12+) itself refuses: a file that is not HCL 2, a reference to an undeclared variable
    invalid = {f"{s['file']}:{s['line']}" for s in r.skipped if "is declared in this module" in s["reason"]
               or "not valid Terraform" in s["reason"]}
    res["terraform_refuses"] = len(((invalid & total) | {b for b in total if b.rsplit(":", 1)[0] in unreadable})
                                   - set(r.imported_blocks))
    inactive = {b for b, n in r.blocks.items() if n == 0} - named
    res["inactive"] = len(inactive & total)
    res["imported"] = len(imported & total)
    res["unresolved_named"] = len((named & total) - imported)
    res["instances"] = len(r.alarms) + len(r.composites)
    silent = total - imported - named - inactive
    res["why"] += [f"skipped {s['file'].rsplit('/', 1)[-1]}:{s['line']} {s['alarm']}: {s['reason'][:160]}"
                   for s in r.skipped if f"{s['file']}:{s['line']}" not in imported]
    res["why"] += [f"not reached {b}" for b in sorted(silent)]
    res["silent"] = len(silent)
    return res


def main(argv: list[str]) -> int:
    root = corpus_dir()
    verbose = "-v" in argv
    repos = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not repos:
        print(f"eval_iac: no corpus at {root} (set RTANALYTICS_IAC_CORPUS; bench/README.md lists its sources)")
        print("skipped=1")
        return 0
    manifest = Path(__file__).with_name("iac_corpus.tsv")
    listed = [line.split("\t") for line in manifest.read_text().splitlines()[1:] if line.strip()]
    missing = [f"{r}/{p}" for r, p, _ in listed if not (root / r.replace("/", "__") / p).exists()]
    if missing:
        print(f"eval_iac: {len(missing)} file(s) of bench/iac_corpus.tsv missing from {root}: {missing[:3]}")
    t0 = time.perf_counter()
    for with_values, all_refs in ((False, False), (True, False), (True, True)):
        label = "all_refs_given" if all_refs else ("with_values" if with_values else "without_values")
        tot = {k: 0 for k in ("alarms", "inactive", "imported", "unresolved_named", "crashed", "refused",
                              "instances", "silent", "anomaly", "unreadable_files", "terraform_refuses")}
        for repo in repos:
            res = run(repo, with_values, all_refs)
            for k in tot:
                tot[k] += res.get(k, 0)
            print(f"{label} {repo.name}: alarms={res['alarms']} "
                  f"inactive={res['inactive']} imported={res['imported']} unresolved_named={res['unresolved_named']} "
                  f"crashed={res['crashed']} refused={res['refused']} instances={res['instances']}")
            if verbose:
                for w in res["why"]:
                    print("    " + w.replace("\n", "\n    "))
        active = tot["alarms"] - tot["inactive"]
        pct = 100.0 * tot["imported"] / active if active else 0.0
        valid = active - tot["terraform_refuses"] - tot["anomaly"]
        pct_valid = 100.0 * tot["imported"] / valid if valid else 0.0
        print(f"{label}: repos={len(repos)} alarms={tot['alarms']} "
              f"active={active} imported={tot['imported']} unresolved_named={tot['unresolved_named']} "
              f"unaccounted={tot['silent']} crashed={tot['crashed']} refused={tot['refused']} "
              f"instances={tot['instances']} anomaly_detection={tot['anomaly']} "
              f"unreadable_files={tot['unreadable_files']} terraform_refuses={tot['terraform_refuses']} "
              f"imported_pct={pct:.1f} imported_pct_of_valid={pct_valid:.1f}")
    print(f"seconds={time.perf_counter() - t0:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
