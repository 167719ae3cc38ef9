"""Storage behind a workspace: one narrow interface, one class per engine.

Analyses read Ibis tables from :meth:`Store.table`, materialise expressions with
:meth:`Store.fetch` and ask :meth:`Store.supports` before taking an engine's fast path
(:meth:`Store.fetch_sql`, :meth:`Store.compile`, :meth:`Store.registered`); they never
touch a backend connection or compare engine names. Writes take Arrow tables or Ibis
expressions of the same backend. Capabilities are declared per class in ``capabilities``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from kundresa._errors import EngineUnavailableError, NotFoundError

ENGINES = ("duckdb", "spark")

#: Every capability a store may declare (see :meth:`Store.supports`).
KNOWN_CAPABILITIES = frozenset(
    {
        "asof_join",  # ASOF joins in Ibis expressions
        "sql_passthrough",  # Store.fetch_sql runs the engine's own SQL
        "raw_sql_fetch",  # Store.fetch_sql of Store.compile(expr) is faster than fetch(expr)
        "sql_params",  # Store.fetch_sql takes ? parameters; Store.registered works
        "clustered_scan",  # tables keep their stored order (replace_sorted) for later scans
        "single_file",  # the whole workspace is one file
        "distributed",  # work can run on a cluster
        "thread_setting",  # Store.set_threads limits the engine's threads
        "builtin_arg_min",  # an arg_min(value, key) aggregate faster than Ibis's argmin
    }
)


class Store(ABC):
    """A set of named tables on one engine."""

    engine: str
    con: Any  # the Ibis backend
    #: What this engine can do; analyses consult :meth:`supports`, never the engine name.
    capabilities: frozenset[str] = frozenset()

    def supports(self, capability: str) -> bool:
        """Whether this store declares ``capability`` (one of ``KNOWN_CAPABILITIES``).

        >>> DuckDBStore(":memory:").supports("clustered_scan")
        True
        """
        if capability not in KNOWN_CAPABILITIES:
            from kundresa._errors import InvalidOptionError

            raise InvalidOptionError("capability", capability, allowed=sorted(KNOWN_CAPABILITIES))
        return capability in self.capabilities

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

    def fetch(self, expr: Any) -> pa.Table:
        """Materialise an Ibis expression of this backend as Arrow (the one way analyses do).

        >>> s = DuckDBStore(":memory:")
        >>> s.fetch(ibis.memtable({"a": [1, 2]})).num_rows
        2
        """
        out: pa.Table = expr.to_pyarrow()
        return out

    #: Deprecated alias of :meth:`fetch`.
    to_arrow = fetch

    def compile(self, expr: Any) -> str:
        """The engine's SQL for an Ibis expression.

        >>> "SELECT" in DuckDBStore(":memory:").compile(ibis.memtable({"a": [1]}))
        True
        """
        return str(self.con.compile(expr))

    @abstractmethod
    def fetch_sql(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run the engine's own SQL and return Arrow (``params`` needs ``sql_params``)."""

    def estimated_rows(self, name: str) -> int:
        """The engine's estimate of a table's rows without a scan (0 when unknown).

        >>> DuckDBStore(":memory:").estimated_rows("events")
        0
        """
        return 0

    @contextmanager
    def registered(self, name: str, data: pa.Table) -> Iterator[None]:
        """Make ``data`` readable as ``name`` in :meth:`fetch_sql` for the block
        (``sql_params`` stores only)."""
        if not self.supports("sql_params"):
            raise NotImplementedError(f"{self.engine}: registered views are not supported")
        yield  # pragma: no cover - every sql_params store overrides this

    def set_threads(self, n: int) -> None:
        """Limit the engine's threads (a no-op unless ``thread_setting`` is supported).

        >>> DuckDBStore(":memory:").set_threads(1)
        """
        return

    def count(self, name: str) -> int:
        return int(self.table(name).count().to_pyarrow().as_py()) if self.exists(name) else 0

    def erase_freed(self) -> None:  # noqa: B027 - optional hook
        """Make sure no deleted row's bytes remain in the files (``forget``, retention).

        Engines that rewrite whole files on ``replace`` (Spark's Parquet folders: the old
        files are deleted) need nothing more; DuckDB rewrites its database file.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


class DuckDBStore(Store):
    """Tables in one DuckDB file (or ``:memory:``)."""

    engine = "duckdb"
    capabilities = frozenset(
        {
            "asof_join",
            "sql_passthrough",
            "raw_sql_fetch",
            "sql_params",
            "clustered_scan",
            "single_file",
            "thread_setting",
            "builtin_arg_min",
        }
    )

    def __init__(self, path: str) -> None:
        new = False
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            new = not Path(path).exists()
        self.path = path
        self._threads: int | None = None
        self._connect()
        if new and Path(path).exists():  # a new workspace is its owner's only (its WAL: umask)
            os.chmod(path, 0o600)

    def _connect(self) -> None:
        self.con = ibis.duckdb.connect(self.path)
        self.raw = self.con.con  # the duckdb connection, for bulk writes
        self.raw.execute("SET TimeZone='UTC'")
        # DuckDB's progress bar prints to stdout on queries over ~2 s: never (--json output)
        self.raw.execute("SET enable_progress_bar=false")
        if self._threads is not None:
            self.raw.execute(f"SET threads = {self._threads}")

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

    def fetch_sql(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run DuckDB SQL on the store's connection.

        >>> DuckDBStore(":memory:").fetch_sql("SELECT ? AS x", [3]).to_pylist()
        [{'x': 3}]
        """
        rel = self.raw.execute(sql) if params is None else self.raw.execute(sql, list(params))
        out: pa.Table = rel.to_arrow_table()
        return out

    def estimated_rows(self, name: str) -> int:
        """DuckDB's catalog estimate of ``name``'s rows (no scan; 0 when unknown).

        >>> DuckDBStore(":memory:").estimated_rows("events")
        0
        """
        row = self.raw.execute(
            "SELECT estimated_size FROM duckdb_tables() WHERE table_name = ? "
            "AND schema_name = current_schema() AND database_name = current_database()",
            [name],
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    @contextmanager
    def registered(self, name: str, data: pa.Table) -> Iterator[None]:
        """``data`` readable as ``name`` in :meth:`fetch_sql` for the block.

        >>> s = DuckDBStore(":memory:")
        >>> with s.registered("v", pa.table({"a": [1]})):
        ...     s.fetch_sql("SELECT count(*) AS n FROM v").to_pylist()
        [{'n': 1}]
        """
        self.raw.register(name, data)
        try:
            yield
        finally:
            self.raw.unregister(name)

    def set_threads(self, n: int) -> None:
        """Limit DuckDB's threads.

        >>> DuckDBStore(":memory:").set_threads(1)
        """
        self.raw.execute(f"SET threads = {int(n)}")
        self._threads = int(n)

    def erase_freed(self) -> None:
        """Rewrite the database file so that no deleted row's bytes remain in it.

        DuckDB marks the blocks of deleted rows free but leaves their bytes in the file (and
        in the WAL until a checkpoint): after ``forget`` the raw file still held the person's
        e-mail. The tables are copied into a fresh file (``COPY FROM DATABASE``), which
        replaces the old one; the WAL is checkpointed away first.

        >>> import tempfile, pathlib
        >>> st = DuckDBStore(str(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"))
        >>> _ = st.raw.execute("CREATE TABLE t AS SELECT 'secret@example.com' AS e")
        >>> _ = st.raw.execute("DELETE FROM t")
        >>> st.erase_freed()
        >>> b"secret@example.com" in pathlib.Path(st.path).read_bytes()
        False
        """
        if self.path == ":memory:":
            return
        path = Path(self.path)
        fresh = path.with_name(path.name + ".erase")
        for stale in (fresh, Path(f"{fresh}.wal")):
            stale.unlink(missing_ok=True)
        self.raw.execute("CHECKPOINT")
        name = self.raw.execute("SELECT current_database()").fetchone()
        self.raw.execute(f"ATTACH '{fresh}' AS kundresa_erase")
        try:
            self.raw.execute(
                f'COPY FROM DATABASE "{name[0] if name else path.stem}" TO kundresa_erase'
            )
        finally:
            self.raw.execute("DETACH kundresa_erase")
        self.con.disconnect()
        os.chmod(fresh, path.stat().st_mode & 0o777)  # the rewritten file keeps the mode
        os.replace(fresh, path)
        Path(f"{path}.wal").unlink(missing_ok=True)
        Path(f"{fresh}.wal").unlink(missing_ok=True)
        self._connect()

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
    capabilities = frozenset({"sql_passthrough", "distributed"})

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

    def fetch_sql(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run Spark SQL on the store's session (no ``?`` parameters)."""
        if params:
            raise NotImplementedError("spark: fetch_sql takes no parameters")
        out: pa.Table = self.session.sql(sql).toArrow()
        return out

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
    from kundresa._errors import InvalidOptionError

    raise InvalidOptionError("engine", engine, allowed=ENGINES)


def engine_supports(engine: str, capability: str) -> bool:
    """Whether the store of ``engine`` declares ``capability``, without opening one.

    >>> engine_supports("duckdb", "single_file"), engine_supports("spark", "single_file")
    (True, False)
    """
    stores: dict[str, type[Store]] = {"duckdb": DuckDBStore, "spark": SparkStore}
    if engine not in stores:
        from kundresa._errors import InvalidOptionError

        raise InvalidOptionError("engine", engine, allowed=ENGINES)
    if capability not in KNOWN_CAPABILITIES:
        from kundresa._errors import InvalidOptionError

        raise InvalidOptionError("capability", capability, allowed=sorted(KNOWN_CAPABILITIES))
    return capability in stores[engine].capabilities


__all__ = [
    "ENGINES",
    "KNOWN_CAPABILITIES",
    "DuckDBStore",
    "SparkStore",
    "Store",
    "engine_supports",
    "open_store",
]
