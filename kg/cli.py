"""The command line: parse options, call one function, turn a KgError into an exit code.

Exit codes: 0 success · 1 data does not conform · 2 usage error · 3 failure (bad input, I/O).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kg import __version__
from kg.config import DEFAULT_BASE_IRI, DEFAULT_STORE, Settings
from kg.errors import KgError
from kg.formats import FORMATS, format_for_path

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES = """\b
Exit codes: 0 success, 1 data does not conform, 2 usage error,
3 failure (bad input, I/O) with a one-line message."""

store_option = click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=f"Oxigraph store directory [default: $KG_STORE or {DEFAULT_STORE}].",
)
base_iri_option = click.option(
    "--base-iri",
    default=None,
    help=f"Base of every IRI kg mints [default: $KG_BASE_IRI or {DEFAULT_BASE_IRI}].",
)


def handle_errors(func: F) -> F:
    """Report a KgError in one line and exit with its code (a traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KgError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"kg: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="kg")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def main(verbose: int, quiet: bool, debug: bool) -> None:
    """kg: publish clinical evidence from PubMed as linked data."""
    level = logging.ERROR if quiet else logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="kg: %(levelname)s: %(message)s", stream=sys.stderr)


@main.command(epilog=EXIT_CODES)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@base_iri_option
@click.option("-r", "--recursive", is_flag=True, help="Read the files under directories given.")
@click.option("--strict", is_flag=True, help="Stop at the first bad record or file.")
@handle_errors
def build(
    inputs: tuple[Path, ...],
    store_path: Path | None,
    base_iri: str | None,
    recursive: bool,
    strict: bool,
) -> None:
    """Parse PubMed records (XML, MEDLINE text, page text; gzip or not) into the store.

    Each article replaces its own named graph; DeleteCitation entries remove theirs.
    Bad records are reported and skipped (exit code 3 at the end); --strict stops at the first.
    """
    from kg.pipeline import build as run_build
    from kg.sources.files import expand
    from kg.store import KgStore

    settings = Settings.from_env(base_iri=base_iri, store=store_path)
    files = expand(list(inputs), recursive=recursive)
    store = KgStore(settings.store)
    with _progress("records") as tick:
        report = run_build(files, store=store, settings=settings, strict=strict, on_record=tick)
    summary = (
        f"{report.files} files · {report.articles} articles ({report.books} books) · "
        f"{report.deletions} deletions ({report.deleted} removed) · "
        f"{report.graphs} article graphs · {report.triples} triples in {settings.store}"
    )
    click.echo(summary)
    skipped = [p for p in report.problems if not p.fatal]
    if skipped:
        click.echo(f"{len(skipped)} records skipped:", err=True)
        for p in skipped[:20]:
            click.echo(f"  {p}", err=True)
    for p in report.problems:
        if p.fatal:
            click.echo(f"kg: error: {p}", err=True)
    for err in report.failed_files:
        click.echo(f"kg: error: {err}", err=True)
    if not report.ok:
        sys.exit(3)


@main.command(epilog=EXIT_CODES)
@store_option
@click.option("-o", "--output", required=True, help="Output file, or - for standard output.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    default=None,
    help="Format [default: from the output file's extension; nq for -].",
)
@handle_errors
def export(store_path: Path | None, output: str, fmt: str | None) -> None:
    """Write a dump of the store. N-Triples and N-Quads dumps are sorted (canonical)."""
    from kg.export import export as run_export
    from kg.store import KgStore

    settings = Settings.from_env(store=store_path)
    chosen = (
        FORMATS[fmt] if fmt else (format_for_path(Path(output)) if output != "-" else FORMATS["nq"])
    )
    if chosen is None:
        raise click.UsageError(
            f"cannot tell the format from {output!r}; use --format ({', '.join(sorted(FORMATS))})"
        )
    store = KgStore(settings.store, create=False, read_only=True)
    n = run_export(store, output, chosen)
    if output != "-":
        click.echo(f"{n} statements → {output} ({chosen.name})", err=True)


class _Progress:
    """A tqdm bar on stderr that stays silent when stderr is not a terminal."""

    def __init__(self, unit: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(unit=f" {unit}", disable=not sys.stderr.isatty(), file=sys.stderr)

    def __enter__(self) -> Callable[[], None]:
        return self.tick

    def tick(self) -> None:
        self.bar.update(1)

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


def _progress(unit: str) -> _Progress:
    return _Progress(unit)


@main.command(epilog=EXIT_CODES)
@click.argument("query", required=False)
@click.option(
    "-f",
    "--file",
    "query_file",
    type=click.File("r", encoding="utf-8"),
    help="Read the query from a file.",
)
@store_option
@click.option(
    "--format",
    "fmt",
    default=None,
    type=click.Choice(["table", "csv", "tsv", "json", "xml", "ttl", "nt", "jsonld"]),
    help="Output format [default: table on a terminal, csv when piped; ttl for graphs].",
)
@handle_errors
def query(query: str | None, query_file: Any, store_path: Path | None, fmt: str | None) -> None:
    """Run a SPARQL 1.1 query over the store (default graph = union of all graphs).

    Prefixes kg, mesh, fabio, dcterms, prism, cito, foaf, schema, prov, void… are declared.
    """
    from kg.query import run_query, write_result
    from kg.store import KgStore

    text = query_file.read() if query_file else query
    if not text:
        raise click.UsageError("give a QUERY or -f FILE")
    settings = Settings.from_env(store=store_path)
    store = KgStore(settings.store, create=False, read_only=True)
    result = run_query(store, text)
    chosen = fmt or ("table" if sys.stdout.isatty() else "csv")
    write_result(result, sys.stdout.buffer, fmt=chosen)
    sys.stdout.buffer.flush()
