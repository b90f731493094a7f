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


@main.command(epilog=EXIT_CODES)
@click.argument("pmid")
@store_option
@base_iri_option
@click.option(
    "--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True,
    help="JSON for programs, a table for people.",
)
@handle_errors
def evidence(pmid: str, store_path: Path | None, base_iri: str | None, fmt: str) -> None:
    """Print the evidence of one article, read back from the store with SPARQL.

    Design, population (conditions with MeSH UIs, sample size), interventions (abbreviation,
    courses), outcomes (count, denominator, percentage, grade, times, p, CI, effect, the quote
    and its offsets in the abstract), conclusion, similar and citing articles.
    """
    import json

    from kg.rdf.iris import Iris, is_pmid
    from kg.report import evidence_json, evidence_table
    from kg.store import KgStore

    if not is_pmid(pmid):
        raise click.UsageError(f"not a PMID: {pmid!r}")
    settings = Settings.from_env(base_iri=base_iri, store=store_path)
    store = KgStore(settings.store, create=False, read_only=True)
    data = evidence_json(store, pmid, iris=Iris(settings.base_iri))
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(evidence_table(data))


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


# --- kg fetch: records from NCBI E-utilities ------------------------------------------------


@main.command(epilog=EXIT_CODES)
@click.option(
    "--pmid", "pmids", multiple=True, metavar="ID", help="A PMID (repeatable; commas allowed)."
)
@click.option(
    "--pmid-file",
    type=click.File("r", encoding="utf-8"),
    help="A file of PMIDs (whitespace or commas; # comments; - for standard input).",
)
@click.option("--query", "term", metavar="TERMS", help="PubMed search terms (esearch).")
@click.option("--max", "max_ids", type=click.IntRange(min=1), help="At most N PMIDs of --query.")
@click.option("--mindate", metavar="DATE", help="--query: published from YYYY[/MM[/DD]].")
@click.option("--maxdate", metavar="DATE", help="--query: published until YYYY[/MM[/DD]].")
@click.option(
    "--links", is_flag=True, help='Also fetch "Similar articles" and "Cited by" (elink).'
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write one PubmedArticleSet (gzip if FILE ends .gz; - for standard output) "
    "[default: standard output].",
)
@click.option(
    "--build", "do_build", is_flag=True, help="Build the records into the store (and keep -o FILE)."
)
@store_option
@base_iri_option
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=200,
    show_default=True,
    help="PMIDs per efetch request.",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of cached answers [default: out/cache/eutils].",
)
@click.option("--offline", is_flag=True, help="Use only the cache; name what it lacks.")
@click.option("--api-key", default=None, help="NCBI API key: 10 requests/s, not 3 [$NCBI_API_KEY].")
@click.option("--email", default=None, help="Your e-mail, sent to NCBI as it asks [$NCBI_EMAIL].")
@click.option(
    "--eutils-url",
    default=None,
    help="E-utilities base URL [default: $KG_EUTILS_URL or "
    "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Retries of a request after a fault.",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Seconds before the first retry, doubled at each (with jitter).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Batches in flight at once (under one rate limit).",
)
@handle_errors
def fetch(
    pmids: tuple[str, ...],
    pmid_file: Any,
    term: str | None,
    max_ids: int | None,
    mindate: str | None,
    maxdate: str | None,
    links: bool,
    output: str | None,
    do_build: bool,
    store_path: Path | None,
    base_iri: str | None,
    batch_size: int,
    cache_dir: Path | None,
    offline: bool,
    api_key: str | None,
    email: str | None,
    eutils_url: str | None,
    timeout: float,
    retries: int,
    backoff: float,
    workers: int,
) -> None:
    """Fetch PubMed records from NCBI E-utilities by PMID or by search query.

    Writes one PubmedArticleSet (-o FILE, or standard output), or with --build puts the
    records (and with --links their similar and citing articles) into the store. Keeps NCBI's
    rules (3 requests/s, 10 with an API key), retries faults with backoff, and caches every
    answer: running the same command again asks only for what is missing. PMIDs that could
    not be fetched are named at the end, after everything else was kept (exit code 3).
    """
    import math

    from tqdm import tqdm

    from kg import fetch as kg_fetch
    from kg.errors import InputError
    from kg.sources.eutils import DEFAULT_CACHE, EutilsClient, EutilsSettings

    if sum(1 for given in (pmids, pmid_file, term) if given) != 1:
        raise click.UsageError("give one of --pmid, --pmid-file or --query")
    if not term and (max_ids or mindate or maxdate):
        raise click.UsageError("--max, --mindate and --maxdate go with --query")
    if do_build and output == "-":
        raise click.UsageError("--build writes the store; -o - would mix XML into its report")
    if links and not do_build:
        click.echo(
            "kg: warning: a PubmedArticleSet has no place for --links; they are fetched and"
            " cached, and go into the graph with --build",
            err=True,
        )
    try:
        wanted = kg_fetch.parse_pmids("\n".join(pmids), source="--pmid") if pmids else []
        query = kg_fetch.Query(term, mindate, maxdate, max_ids) if term else None
    except InputError as exc:
        raise click.UsageError(str(exc)) from exc
    if pmid_file is not None:
        wanted = kg_fetch.parse_pmids(pmid_file.read(), source=pmid_file.name)
    eutils = EutilsSettings.from_env(
        base_url=eutils_url,
        api_key=api_key,
        email=email,
        timeout=timeout,
        max_retries=retries,
        backoff=backoff,
        cache_dir=cache_dir or DEFAULT_CACHE,
        offline=offline,
    )
    bar = tqdm(unit=" batches", disable=not sys.stderr.isatty(), file=sys.stderr)
    records = 0

    def on_retry(reason: str) -> None:
        bar.set_postfix_str(f"retry: {reason}"[:60])

    def on_batch(batch: kg_fetch.Batch) -> None:
        nonlocal records
        records += len(batch.records)
        bar.update(1)
        bar.set_postfix(records=records, retries=client.stats.retries)

    options: dict[str, Any] = {
        "batch_size": batch_size,
        "links": links,
        "workers": workers,
        "on_batch": on_batch,
    }
    with bar, EutilsClient(eutils, on_retry=on_retry) as client:
        ids = kg_fetch.resolve_pmids(client, pmids=wanted, query=query)
        bar.total = math.ceil(len(ids) / batch_size)
        bar.refresh()
        if do_build:
            from kg.store import KgStore

            settings = Settings.from_env(base_iri=base_iri, store=store_path)
            xml_path = Path(output) if output else None
            store = KgStore(settings.store)
            report = kg_fetch.fetch_and_build(
                client, ids, store=store, settings=settings, xml_path=xml_path, **options
            )
            target = str(settings.store)
        elif output and output != "-":
            report = kg_fetch.fetch_to_file(client, ids, Path(output), **options)
            target = output
        else:
            report = kg_fetch.fetch(client, ids, sys.stdout.buffer, **options)
            sys.stdout.buffer.flush()
            target = "standard output"
    click.echo(
        f"{report.records} records of {report.requested} PMIDs in {report.batches} batches"
        f" → {target} ({report.requests} requests, {report.cached} answers from the cache,"
        f" {report.retries} retries)",
        err=True,
    )
    built = report.build
    if built is not None:
        click.echo(
            f"{built.articles} articles · {built.graphs} article graphs · "
            f"{built.triples} triples in {target}"
        )
        for p in built.problems[:20]:
            click.echo(f"kg: {'error' if p.fatal else 'skipped'}: {p}", err=True)
        for err in built.failed_files:
            click.echo(f"kg: error: {err}", err=True)
    problems = report.problems()
    for line in problems:
        click.echo(f"kg: error: {line}", err=True)
    if not report.ok:
        if problems:
            hint = "kg: run the same command again to retry those (the rest is cached)"
            click.echo(hint, err=True)
        sys.exit(3)
