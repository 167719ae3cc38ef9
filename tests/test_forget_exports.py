"""``forget`` erases the exports the product wrote (issue 14, privacy: "grep the raw bytes of
every file the product wrote (DuckDB file and WAL, SQLite and WAL, exports, logs)").

Before: ``kundresa events --out people.csv`` (or ``.parquet``, ``.html``) wrote the person's
rows, and ``kundresa forget`` erased the workspace but left every export as it was. Now each
``--out`` is remembered per workspace (``<db>.exports``, paths only), and ``forget`` erases
the exports that hold any identifier of the person (zeros over the bytes, then removed),
keeps the others, and names the exports it cannot look into (PNG, PDF).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ERIN = ("erin-user-4k2j", "erin-anon-8s1d", "erin.exported@example.org")
CALLS = [
    {
        "type": "identify",
        "userId": ERIN[0],
        "anonymousId": ERIN[1],
        "traits": {"email": ERIN[2]},
        "messageId": "erin-m-1",
        "timestamp": "2026-11-02T10:00:00Z",
    },
    {
        "type": "track",
        "event": "Order Completed",
        "userId": ERIN[0],
        "messageId": "erin-m-2",
        "timestamp": "2026-11-02T10:05:00Z",
    },
    {
        "type": "track",
        "event": "Order Completed",
        "userId": "finn-user-3m9x",
        "messageId": "finn-m-1",
        "timestamp": "2026-11-02T11:05:00Z",
    },
]


def kundresa(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "kundresa", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_forget_erases_the_exports_that_hold_the_person(tmp_path: Path) -> None:
    src = tmp_path / "in" / "calls.jsonl"
    src.parent.mkdir()
    src.write_text("".join(json.dumps(c) + "\n" for c in CALLS))
    db = tmp_path / "w.duckdb"
    assert kundresa("ingest", str(src), "--db", str(db)).returncode == 0
    out = tmp_path / "out"
    people = [out / "events.csv", out / "events.parquet", out / "events.html"]
    counts = out / "info.json"
    for f in people:
        done = kundresa("events", "--db", str(db), "--out", str(f))
        assert done.returncode == 0, done.stderr
    assert kundresa("info", "--db", str(db), "--out", str(counts)).returncode == 0
    image = out / "funnel.png"  # stands for a rendered result: its pixels cannot be searched
    image.write_bytes(b"\x89PNG not searched")
    from kundresa._exports import record_export

    record_export(db, image)
    assert ERIN[0].encode() in people[0].read_bytes()  # the search can find the id
    registry = Path(f"{db}.exports")
    assert oct(registry.stat().st_mode & 0o777) == "0o600"

    proc = kundresa("forget", ERIN[0], "--db", str(db), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert sorted(report["exports"]) == sorted(str(f.resolve()) for f in people), report
    assert report["exports_unchecked"] == [str(image.resolve())], report
    assert not any(f.exists() for f in people)
    assert counts.exists()
    assert image.exists()
    text = kundresa("forget", "finn-user-3m9x", "--db", str(db))
    assert "check these exports by hand" in text.stdout, text.stdout
    # nothing of Erin in any file the product wrote (the input file is the user's own)
    for f in tmp_path.rglob("*"):
        if f.is_file() and f != src:
            data = f.read_bytes()
            assert not [n for n in ERIN if n.encode() in data], f
