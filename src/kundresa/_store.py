"""Storage behind a workspace: one narrow interface, one class per engine.

Analyses never touch these classes; they read Ibis tables from :class:`Store.table`
and hand expressions back. Writes take Arrow tables or Ibis expressions of the same
backend. Capabilities that differ by engine are declared in ``CAPABILITIES``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from kundresa.errors import EngineUnavailableError, NotFoundError

ENGINES = ("duckdb", "spark")

#: What each engine can do; analyses consult this instead of ``if engine == ...``.
CAPABILITIES: dict[str, frozenset[str]] = {
    "duckdb": frozenset({"asof_join", "sql_passthrough", "single_file"}),
    "spark": frozenset({"sql_passthrough", "distributed"}),
}


class Store(ABC):
    """A set of named tables on one engine."""

    engine: str
    con: Any  # the Ibis backend

    @abstractmethod
    def names(self) -> list[str]:
        """Names of the tables that exist."""

    def exists(self, name: str) -> bool:
        return name in self.names()

    def table(self, name: str) -> ibis.Table:
        if not self.exists(name):
            raise NotFoundError("table", name, candidates=self.names())
        table: ibis.Table = self.con.table(name)
        return table

    @abstractmethod
    def ensure(self, name: str, schema: pa.Schema) -> None:
        """Create an empty table with ``schema`` unless it exists."""

    @abstractmethod
    def append(self, name: str, data: pa.Table | ibis.Table) -> None:
        """Append rows (Arrow, or an expression of this backend)."""

    @abstractmethod
    def insert_new(self, name: str, data: pa.Table, key: str) -> int:
        """Append the rows of ``data`` whose ``key`` is not in the table yet; return how many."""

    @abstractmethod
    def replace(self, name: str, data: pa.Table | ibis.Table) -> None:
        """Replace the table's content; ``data`` may read the table itself."""

    def replace_sorted(self, name: str, data: pa.Table | ibis.Table, order_sql: str) -> None:
        """:meth:`replace`, storing the rows in the order of the SQL ``ORDER BY`` list
        ``order_sql`` where the engine keeps a table's order for later scans (DuckDB);
        elsewhere the same as :meth:`replace`."""
        self.replace(name, data)

    @abstractmethod
    def drop(self, name: str) -> None:
        """Drop a table if it exists."""

    def to_arrow(self, expr: ibis.Table) -> pa.Table:
        out: pa.Table = expr.to_pyarrow()
        return out

    def count(self, name: str) -> int:
        return int(self.table(name).count().to_pyarrow().as_py()) if self.exists(name) else 0

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


class DuckDBStore(Store):
    """Tables in one DuckDB file (or ``:memory:``)."""

    engine = "duckdb"

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.con = ibis.duckdb.connect(path)
        self.raw = self.con.con  # the duckdb connection, for bulk writes
        self.raw.execute("SET TimeZone='UTC'")

    def names(self) -> list[str]:
        return list(self.con.list_tables())

    def ensure(self, name: str, schema: pa.Schema) -> None:
        if not self.exists(name):
            self._write(name, schema.empty_table(), "create")

    def _sql_of(self, data: pa.Table | ibis.Table) -> tuple[str, pa.Table | None]:
        if isinstance(data, pa.Table):
            return "SELECT * FROM __kundresa_arrow", data
        return str(self.con.compile(data)), None

    def _write(
        self, name: str, data: pa.Table | ibis.Table, how: str, order_sql: str | None = None
    ) -> None:
        sql, arrow = self._sql_of(data)
        if order_sql is not None:
            sql = f"SELECT * FROM ({sql}) ORDER BY {order_sql}"
        if arrow is not None:
            self.raw.register("__kundresa_arrow", arrow)
        try:
            if how == "append":
                self.raw.execute(f'INSERT INTO "{name}" BY NAME {sql}')
            elif how == "create":
                self.raw.execute(f'CREATE TABLE "{name}" AS {sql}')
            else:
                self.raw.execute(f'CREATE OR REPLACE TABLE "{name}" AS {sql}')
        finally:
            if arrow is not None:
                self.raw.unregister("__kundresa_arrow")

    def append(self, name: str, data: pa.Table | ibis.Table) -> None:
        self._write(name, data, "append")

    def insert_new(self, name: str, data: pa.Table, key: str) -> int:
        self.raw.register("__kundresa_new", data)
        try:
            # Probe the table with the batch's keys (hash built on the small batch, one
            # column scanned), then anti-join the batch: a NOT EXISTS would build its hash
            # table over the whole growing table for every batch.
            row = self.raw.execute(
                f'INSERT INTO "{name}" BY NAME '
                f'WITH seen AS (SELECT "{key}" FROM "{name}" '
                f'WHERE "{key}" IN (SELECT "{key}" FROM __kundresa_new)) '
                f'SELECT * FROM __kundresa_new ANTI JOIN seen USING ("{key}")'
            ).fetchone()
        finally:
            self.raw.unregister("__kundresa_new")
        return int(row[0]) if row else 0

    def replace(self, name: str, data: pa.Table | ibis.Table) -> None:
        self._write(name, data, "replace")

    def replace_sorted(self, name: str, data: pa.Table | ibis.Table, order_sql: str) -> None:
        """Replace the table with ``data`` stored in the order of the SQL ``ORDER BY`` list
        ``order_sql`` (DuckDB keeps insertion order for later scans)."""
        self._write(name, data, "replace", order_sql)

    def drop(self, name: str) -> None:
        self.raw.execute(f'DROP TABLE IF EXISTS "{name}"')

    def close(self) -> None:
        self.con.disconnect()


def _java_problem() -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return None
    if shutil.which("java"):
        return None
    return "java not found (no JAVA_HOME, no java on PATH)"


def spark_session(master: str | None = None) -> Any:
    """Start (or reuse) a SparkSession configured for kundresa (UTC, quiet UI).

    Raises :class:`EngineUnavailableError` naming the fix when Java or PySpark is missing.
    """
    problem = _java_problem()
    if problem:
        raise EngineUnavailableError(
            "spark", problem, fix="install a Java 17 runtime (apt-get install openjdk-17-jre)"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EngineUnavailableError(
            "spark", "pyspark is not installed", fix="pip install 'kundresa[spark]'"
        ) from exc
    master = master or os.environ.get("KUNDRESA_SPARK_MASTER", "local[2]")
    builder = (
        SparkSession.builder.master(master)
        .appName("kundresa")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", os.environ.get("KUNDRESA_SPARK_MEMORY", "4g"))
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkStore(Store):
    """Tables as Parquet directories under one folder, registered as Spark views.

    Works with a local master or a cluster whose workers see the same folder.
    """

    engine = "spark"

    def __init__(self, path: str, session: Any = None) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.session = session if session is not None else spark_session()
        self.con = ibis.pyspark.connect(self.session)
        self._views: set[str] = set()
        for child in sorted(self.path.iterdir()):
            if child.is_dir() and not child.name.startswith((".", "_")):
                self._register(child.name)

    def _dir(self, name: str) -> Path:
        return self.path / name

    def _register(self, name: str) -> None:
        df = self.session.read.parquet(str(self._dir(name)))
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def names(self) -> list[str]:
        return sorted(self._views)

    def _frame(self, data: pa.Table | ibis.Table) -> Any:
        if isinstance(data, pa.Table):
            return self.session.createDataFrame(data)
        return self.session.sql(str(self.con.compile(data)))

    def ensure(self, name: str, schema: pa.Schema) -> None:
        if not self.exists(name):
            self._frame(schema.empty_table()).write.mode("overwrite").parquet(str(self._dir(name)))
            self._register(name)

    def append(self, name: str, data: pa.Table | ibis.Table) -> None:
        frame = self._frame(data)
        if self.exists(name):
            frame = frame.select(*self.session.table(name).columns)
        frame.write.mode("append").parquet(str(self._dir(name)))
        self._register(name)

    def insert_new(self, name: str, data: pa.Table, key: str) -> int:
        existing = self.session.table(name).select(key)
        fresh = self._frame(data).join(existing, on=key, how="left_anti")
        new_rows: pa.Table = fresh.toArrow()
        if new_rows.num_rows:
            self.append(name, new_rows)
        return int(new_rows.num_rows)

    def replace(self, name: str, data: pa.Table | ibis.Table) -> None:
        tmp = self.path / f"_{name}.{uuid.uuid4().hex[:8]}"
        self._frame(data).write.mode("overwrite").parquet(str(tmp))
        old = self._dir(name)
        if old.exists():
            shutil.rmtree(old)
        tmp.rename(old)
        self._register(name)

    def drop(self, name: str) -> None:
        if name in self._views:
            self.session.catalog.dropTempView(name)
            self._views.discard(name)
        shutil.rmtree(self._dir(name), ignore_errors=True)


def open_store(engine: str, path: str, *, spark: Any = None) -> Store:
    """Open the store of ``engine`` at ``path``."""
    if engine == "duckdb":
        return DuckDBStore(path)
    if engine == "spark":
        return SparkStore(path, session=spark)
    from kundresa.errors import InvalidOptionError

    raise InvalidOptionError("engine", engine, allowed=ENGINES)


__all__ = ["CAPABILITIES", "ENGINES", "DuckDBStore", "SparkStore", "Store", "open_store"]
