"""Evaluate a SELECT list with DuckDB over a Parquet file, for the feature
engine's correctness tests.

usage: duck.py IN.parquet OUT.parquet SELECT_LIST

The input is exposed as the view "t"; rows come back ordered by column rn.
"""
import sys

try:
    import duckdb
except ImportError:
    sys.stderr.write("duckdb is not installed for this python3 (pip install duckdb)\n")
    sys.exit(3)


def main() -> None:
    src, dst, select = sys.argv[1], sys.argv[2], sys.argv[3]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{src}')")
    con.execute(f"COPY (SELECT rn, {select} FROM t ORDER BY rn) TO '{dst}' (FORMAT parquet)")


if __name__ == "__main__":
    main()
