"""Log templates on raw lines of any format: header split, masking, mining, grouping accuracy — on hand-made
lines shaped like real logs, and on loghub's labelled systems when ../shared/realdata is there."""

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from rtanalytics.templates import (MiningSettings, collapse, grouping_accuracy, join_restated, learn_slots, mask,
                                  mine, split_header)

ROOT = Path(__file__).resolve().parents[1]

SYSLOG = ["Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown",
          "Jun 14 15:16:02 combo sshd(pam_unix)[19937]: session opened for user cyrus by (uid=0)",
          "Jul  3 04:08:03 combo syslogd 1.4.1: restart."]
ZOOKEEPER = ["2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - "
             "Notification time out: 3200"]
HDFS = ["081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 "
        "terminating"]
PROXIFIER = ["[10.30 16:51:56] svchost.exe *64 - proxy.cse.cuhk.edu.hk:5070 close, 303 bytes sent, 275 bytes "
             "received, lifetime <1 sec"]


@pytest.mark.parametrize("lines,header,message", [
    (SYSLOG, "Jun 14 15:16:01 combo sshd(pam_unix)[19939]:", "check pass; user unknown"),
    (ZOOKEEPER, "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] -",
     "Notification time out: 3200"),
    (HDFS, "081109 203615 148 INFO dfs.DataNode$PacketResponder:",
     "PacketResponder 1 for block blk_38865049064139660 terminating"),
    # the destination's host:port is a field on every line of this file: the header takes it (it varies anyway)
    (PROXIFIER, "[10.30 16:51:56] svchost.exe *64 - proxy.cse.cuhk.edu.hk:5070",
     "close, 303 bytes sent, 275 bytes received, lifetime <1 sec"),
    (["- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO "
      "instruction cache parity error corrected"],
     "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO",
     "instruction cache parity error corrected"),
    (["20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579"], "20171223-22:15:29:606|Step_LSC|30002312|",
     "onStandStepChanged 3579"),
])
def test_headers_are_learned_from_the_file_and_split(lines, header, message):
    df = split_header(lines)
    assert df.attrs["format"].startswith("learned") and df.attrs["matched"] == 1.0
    assert df["header"].iloc[0] == header and df["message"].iloc[0] == message


def test_keys_with_colons_are_message_not_header():
    lines = [f"2026-11-20 10:00:0{i} 41 INFO api.server [req-{i}] status: 200 len: {i} time: 0.{i}" for i in range(5)]
    df = split_header(lines)
    assert df["message"].tolist()[0] == "status: 200 len: 0 time: 0.0"


def test_unknown_lines_keep_their_text_and_are_counted():
    df = split_header(["Jun 14 15:16:01 combo sshd[1]: ok"] * 9 + ["hello world"])
    assert df["message"].tolist()[-1] == "hello world" and df.attrs["unmatched"] == [9]
    assert df["message"].tolist()[0] == "ok"


def test_masking_hides_every_kind_of_variable():
    out = collapse(mask(pd.Series([
        "connection from 218.188.2.4 (adsl-218-188-2-4.example.lt) at Sun Jul 10 03:55:15 2005",
        "GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1 status: 200 len: 1893 time: 0.2477",
        "Took 19.05 seconds to spawn instance 3edec1e4-9678-4a3a-a21b-a145a4ee5e61 on [fe80::1]:8080",
        "Deleting block blk_-6952295868487656571 file /mnt/hadoop/dfs/data/current/subdir19/blk_-69 uid=1000",
    ])))
    assert out[0] == "connection from <*> at <*>"
    assert out[1] == "GET <*> HTTP/<*> status: <*> len: <*> time: <*>"
    assert "3edec1e4" not in out[2] and "19.05" not in out[2] and "8080" not in out[2]
    assert "6952295868487656571" not in out[3] and "/mnt" not in out[3] and "1000" not in out[3]


def test_mining_groups_lines_by_template_across_values_and_headers():
    lines = [f"Jun {d} 0{d}:16:0{d} combo sshd(pam_unix)[{1000 + d}]: session opened for user u{d} by (uid={d})"
             for d in range(1, 6)]
    lines += [f"Jun {d} 0{d}:17:0{d} combo su(pam_unix)[{2000 + d}]: session closed for user u{d}" for d in range(1, 6)]
    lines += ["Jun 9 09:00:00 combo kernel: Memory: 125312k/129720k available"]
    out = mine(lines)
    assert out["template_id"].nunique() == 3
    truth = ["open"] * 5 + ["close"] * 5 + ["mem"]
    assert grouping_accuracy(out["template_id"], truth) == 1.0
    assert out["template"].iloc[0].startswith("session opened for user")


def test_a_value_restated_joins_its_template_and_more_fields_do_not():
    """Learned from the file's own templates, no unit written down: a line that restates a value ("1190 bytes
    (1.16 KB) sent") is the template of the line that does not ("0 bytes sent"); a longer tail (more fields)
    and an inserted constant ("invalid user") stay templates of their own."""
    t = {1: "close <*> bytes sent <*> bytes received lifetime <*>",
         2: "close <*> bytes <*> KB sent <*> bytes received lifetime <*>",
         3: "close <*> bytes <*> KB sent <*> bytes <*> KB received lifetime <*>",
         4: "authentication failure rhost <*>",
         5: "authentication failure rhost <*> user <*>",
         6: "Failed password for <*> from <*>",
         7: "Failed password for invalid user <*> from <*>"}
    assert join_restated(t) == {2: 1, 3: 1}
    lines = [f"[10.30 16:49:{i:02d}] chrome.exe - proxy.example.com:5070 close, {i * 1000} bytes"
             + (f" ({i}.16 KB)" if i % 2 else "") + f" sent, {i * 7} bytes received, lifetime 00:{i:02d}"
             for i in range(1, 9)]
    assert mine(lines)["template_id"].nunique() == 1


def test_values_without_digits_are_learned_from_the_file():
    """Request paths without a digit (no mask knows them) take many spellings between the same neighbours, so
    the file itself says they are values: one template for every GET line; POST stays another template, and its
    three paths too few to call a value; names with three spellings stay words."""
    words = ["servers", "images", "flavors", "volumes", "networks", "ports", "routers", "subnets", "keypairs",
             "quotas", "limits", "extensions"]
    get = [f'req-{i} "GET /{w} HTTP/1.1" status: 200 len: {100 + i} time: 0.{i}' for i, w in enumerate(words)]
    post = [f'req-{i} "POST /{w} HTTP/1.1" status: 202 len: {50 + i} time: 0.{i}' for i, w in enumerate(words[:3])]
    ids = mine(get + post, raw=False)["template_id"]
    assert ids[:len(get)].nunique() == 1  # twelve paths after "GET: a value
    assert not set(ids[len(get):]) & set(ids[:len(get)])  # POST is another template
    assert ids[len(get):].nunique() == 3  # three paths after "POST are too few to call it a value
    assert mine(get, MiningSettings(slot_values=0), raw=False)["template_id"].nunique() == len(get)  # without
    masked = learn_slots(pd.Series(["login user alice ok", "login user bob ok", "login user carol ok"]), 10)
    assert masked.tolist() == ["login user alice ok", "login user bob ok", "login user carol ok"]


def test_grouping_accuracy_is_the_loghub_metric():
    assert grouping_accuracy([1, 1, 2, 2], ["a", "a", "b", "b"]) == 1.0
    assert grouping_accuracy([1, 1, 1, 2], ["a", "a", "b", "b"]) == 0.0  # mixed group and a split group
    assert grouping_accuracy([1, 1, 2, 3], ["a", "a", "b", "b"]) == 0.5


REAL = Path(os.environ.get("RTANALYTICS_REALDATA", ROOT.parent / "shared" / "realdata")) / "loghub"


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata/loghub not present")
def test_loghub_raw_lines_grouping_accuracy():
    sys.path.insert(0, str(ROOT / "bench"))
    import eval_templates as E

    accs = {s: grouping_accuracy(mine(lines)["template_id"], truth) for s, lines, truth in E.load(REAL)}
    assert len(accs) == 8
    assert sum(accs.values()) / len(accs) >= 0.85 and min(accs.values()) >= 0.6, accs
