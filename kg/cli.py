"""The command line: parse options, call one function, turn a KgError into an exit code.

Exit codes: 0 success · 1 data does not conform · 2 usage error · 3 failure (bad input, I/O).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kg import __version__
from kg.config import DEFAULT_BASE_IRI, DEFAULT_STORE, Settings
from kg.errors import KgError, one_line
from kg.formats import FORMATS, format_for_path

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES = """\b
Exit codes: 0 success, 1 data does not conform, 2 usage error,
3 failure (bad input, I/O) with a one-line message, 130 interrupted (Ctrl-C),
141 the reader of standard output went away (kg ... | head)."""
INTERRUPTED = 130  # 128 + SIGINT, as shells report it
PIPE_CLOSED = 141  # 128 + SIGPIPE, what a shell reports for `yes | head`

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
force_base_iri_option = click.option(
    "--force-base-iri",
    is_flag=True,
    help="Build under the base IRI given even when the store's IRIs were minted under another "
    "(refused otherwise, exit code 2: two IRI spaces would mix in one store).",
)


json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print what the command did as one JSON object on standard output (for scripts and "
    "CI) instead of the summary line.",
)


def _echo_json(data: dict[str, Any]) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=False))


class ByteSize(click.ParamType):
    """A size: 512MiB, 1GiB, 2G (units of 1024; a bare number is MiB)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from kg.query import parse_size

        try:
            return value if isinstance(value, int) else parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def retry_options(*, timeout: float, faults: str, wait: str) -> Callable[[F], F]:
    """--timeout, --retries and --backoff, for a command that talks HTTP."""
    options = (
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=timeout,
            show_default=True,
            help="Seconds to wait for each answer.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            default=5,
            show_default=True,
            help=f"Retries of a request after {faults}.",
        ),
        click.option(
            "--backoff",
            type=click.FloatRange(min=0),
            default=1.0,
            show_default=True,
            help=f"Seconds before the first retry, doubled at each ({wait}).",
        ),
    )

    def decorate(func: F) -> F:
        for option in reversed(options):  # as if stacked in this order above ``func``
            func = option(func)
        return func

    return decorate


def handle_errors(func: F) -> F:
    """Report a KgError in one line and exit with its code (a traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            _pipe_closed()
        except KgError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            if isinstance(exc.__cause__, BrokenPipeError):
                _pipe_closed()
            click.echo(f"kg: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo("kg: interrupted", err=True)
            sys.exit(INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def _pipe_closed() -> None:
    """The reader of standard output went away (``| head``): no message, no output left to
    flush into the closed pipe at exit (Python would complain), exit 141 as a shell reports."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(PIPE_CLOSED)


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
@click.argument(
    "inputs",
    nargs=-1,
    required=True,
    # readable=False: an unreadable file is bad input (one line, exit code 3), not a usage error
    type=click.Path(path_type=Path, allow_dash=True, readable=False),
)
@store_option
@base_iri_option
@click.option("-r", "--recursive", is_flag=True, help="Read the files under directories given.")
@click.option("--strict", is_flag=True, help="Stop at the first bad record or file.")
@click.option(
    "--validate",
    "validate_graphs",
    is_flag=True,
    help="Check each article's graph against the SHACL shapes as it is built and name those "
    "that do not conform (exit code 1); with --strict they are left out of the store.",
)
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Processes building files at once; 1 builds in this process, 0 one per CPU "
    "[default: one per CPU, at most one per input file].",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Who builds the files: processes on this machine, or the workers of an existing Dask "
    "distributed cluster (--scheduler; needs kg[dask]).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="The Dask scheduler, tcp://HOST:PORT [default: $DASK_SCHEDULER_ADDRESS]. Inputs and "
    "--shard-dir must be paths its workers see too.",
)
@click.option(
    "--shard-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the sorted N-Quads shards are written until loaded [default: beside the store].",
)
@click.option(
    "--shards-out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write no store: stop at sorted, gzipped N-Quads shards (one per input) in this new "
    "directory, with manifest.json, each shard's PMIDs and drop-graphs.ru, for a triple "
    "store's own parallel loader (see docs/scale.md).",
)
@click.option(
    "--optimize/--no-optimize",
    default=True,
    show_default=True,
    help="Compact the store after loading, so lookups stay fast as it grows (rewrites the "
    "whole store: for a small update of a very large store, --no-optimize).",
)
@click.option(
    "--force", is_flag=True, help="Apply files again that the store records as applied."
)
@force_base_iri_option
@json_option
@handle_errors
def build(
    inputs: tuple[Path, ...],
    store_path: Path | None,
    base_iri: str | None,
    recursive: bool,
    strict: bool,
    validate_graphs: bool = False,
    workers: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    shard_dir: Path | None = None,
    shards_out: Path | None = None,
    optimize: bool = True,
    force: bool = False,
    force_base_iri: bool = False,
    as_json: bool = False,
) -> None:
    """Parse PubMed records (XML, MEDLINE text, page text; gzip or not) into the store.

    INPUTS are files, directories (with -r), FIFOs, or - for standard input. Each article
    replaces its own named graph; DeleteCitation entries remove theirs; files apply in the
    order given (daily update files in date order). Each file is built into a
    sorted N-Quads shard, on every CPU (--workers) or on a Dask cluster (--engine dask), and
    bulk-loaded. The store records each file applied: a file applied before is skipped
    (--force applies it again).
    Bad records, and files that cannot be read or break off, are reported in one line each and
    skipped (exit code 3 at the end, after everything else went through); --strict stops at the
    first.
    """
    from kg.pipeline import build as run_build
    from kg.pipeline import check_update_order
    from kg.shard import DaskRunner, LocalRunner, Runner, default_workers
    from kg.sources.files import expand
    from kg.store import KgStore, read_applied

    settings = Settings.from_env(base_iri=base_iri, store=store_path)
    files = expand(list(inputs), recursive=recursive)
    runner: Runner | None = None
    if engine == "dask":
        address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
        if not address:
            raise click.UsageError("--engine dask needs --scheduler tcp://HOST:PORT")
        if workers is not None:
            raise click.UsageError("--workers is for --engine local; Dask has its own workers")
        runner = DaskRunner(address)
    else:
        if scheduler:
            raise click.UsageError("--scheduler goes with --engine dask")
        n = min(workers or default_workers(), len(files))
        if n > 1:
            runner = LocalRunner(n)
    if shards_out is not None:
        if shard_dir is not None:
            raise click.UsageError("--shard-dir is where a store's shards wait; --shards-out "
                                   "writes them instead of a store")
        check_update_order(files, {})
        _build_shards(files, shards_out, settings, strict=strict, runner=runner,
                      validate_graphs=validate_graphs)
        return
    if not force:  # before the store is opened: a refusal leaves it untouched and unlocked
        check_update_order(files, read_applied(settings.store))
    if not force_base_iri:  # before the store is opened for writing, as above
        _check_base_iri(settings)
    checker = None
    if validate_graphs:
        from kg.validate import GraphChecker

        checker = GraphChecker()
    # Readers see the store as it was until the build has finished, then as it is after.
    with _progress("records") as progress, KgStore.writing(
        settings.store, on_phase=progress.phase
    ) as store:
        report = run_build(
            files, store=store, settings=settings, strict=strict, on_record=progress.tick,
            check=checker, runner=runner, skip_applied=not force, shard_dir=shard_dir,
            optimize=optimize, on_phase=progress.phase,
        )
    for path, done in report.skipped:
        click.echo(
            f"kg: skipped {path}: already applied ({done.name}, {done.applied_at}); "
            "--force applies it again",
            err=True,
        )
    if as_json:
        _echo_json({
            "command": "build", "ok": report.ok, "store": str(settings.store),
            "files": report.files, "articles": report.articles, "books": report.books,
            "deletions": report.deletions, "deleted": report.deleted,
            "article_graphs": report.graphs, "triples": report.triples,
            "skipped_files": [str(path) for path, _ in report.skipped],
            "failed_files": [one_line(str(e)) for e in report.failed_files],
            "problems": [
                {"source": p.source, "where": p.where, "message": p.message,
                 "kind": "broke off" if p.fatal else "kept" if p.kept else "skipped"}
                for p in report.problems
            ],
        })
    else:
        click.echo(
            f"{report.files} files · {report.articles} articles ({report.books} books) · "
            f"{report.deletions} deletions ({report.deleted} removed) · "
            f"{report.graphs} article graphs · {report.triples} triples in {settings.store}"
        )
    _report_problems(report, checker, strict=strict, kept_in="the store")


def _build_shards(
    files: list[Path], out: Path, settings: Settings, *, strict: bool, runner: Any,
    validate_graphs: bool,
) -> None:
    """``kg build --shards-out``: shards for another store's loader, no kg store."""
    from kg.pipeline import build_shards

    checker = None
    if validate_graphs:
        from kg.validate import GraphChecker

        checker = GraphChecker()
    with _progress("records") as progress:
        report = build_shards(files, out=out, settings=settings, strict=strict,
                              on_record=progress.tick, runner=runner, check=checker)
    click.echo(
        f"{report.files} files · {report.articles} articles ({report.books} books) · "
        f"{report.deletions} deletions ({report.deleted} removed) · {report.graphs} article "
        f"graphs ({report.superseded} replaced by a later file) · {report.triples} quads in "
        f"{len(report.shards)} shards in {out}"
    )
    _report_problems(report, checker, strict=strict, kept_in="the shards")


def _report_problems(report: Any, checker: Any, *, strict: bool, kept_in: str) -> None:
    """What a build left out or kept with a fault, on stderr; the exit code (3, 1) it earns."""
    warnings = report.warnings
    if warnings:
        click.echo(f"{len(warnings)} records kept with something left out:", err=True)
        _echo_some(warnings)
    skipped = report.skipped_records
    if skipped:
        click.echo(f"{len(skipped)} records skipped:", err=True)
        _echo_some(skipped)
    for p in report.problems:
        if p.fatal:
            click.echo(f"kg: error: {one_line(str(p))}", err=True)
    for err in report.failed_files:
        click.echo(f"kg: error: {err}", err=True)
    faults = [r for r in checker.results if r.severity == "Violation"] if checker else []
    if faults:
        pmids = sorted({r.pmid or "?" for r in faults})
        fate = f"left out of {kept_in}" if strict else "kept; `kg validate` lists every fault"
        click.echo(f"{len(pmids)} articles do not conform to the shapes ({fate}):", err=True)
        _echo_some(faults)
    if not report.ok:
        sys.exit(3)
    if faults:
        sys.exit(1)


def _check_base_iri(settings: Settings) -> None:
    """Refuse (exit code 2) a base IRI other than the one the existing store's IRIs use."""
    from kg.rdf.metadata import check_base_iri
    from kg.store import KgStore, current_version

    if current_version(settings.store) is not None:  # read-only: a refusal leaves no lock behind
        with KgStore(settings.store) as store:
            check_base_iri(store.store, settings.base_iri)


def _echo_some(items: list[Any], *, limit: int = 20) -> None:
    """The first ``limit`` items, one line each, then how many more there are."""
    for item in items[:limit]:
        click.echo(f"  {one_line(str(item))}", err=True)
    if len(items) > limit:
        click.echo(f"  and {len(items) - limit} more", err=True)


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
@click.option(
    "--tmp-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Directory for the sort's scratch files [default: beside the output; TMPDIR for -].",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on standard error [default: when it is a terminal].",
)
@handle_errors
def export(
    store_path: Path | None,
    output: str,
    fmt: str | None,
    tmp_dir: Path | None,
    progress: bool | None,
) -> None:
    """Write a dump of the store, in a canonical order, in flat memory (an external sort);
    gzip when the output ends .gz. N-Triples and N-Quads dumps are sorted lines."""
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
    store = KgStore(settings.store)
    n = run_export(store, output, chosen, tmp_dir=tmp_dir, progress=progress)
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
    store = KgStore(settings.store)
    data = evidence_json(store, pmid, iris=Iris(settings.base_iri))
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(evidence_table(data))


@main.command(epilog=EXIT_CODES)
@click.option("-i", "--intervention", required=True, metavar="MESH",
              help="The intervention: a MeSH UI or label (the descriptors under it count too).")
@click.option("-c", "--condition", metavar="MESH",
              help="Only studies of this condition: a MeSH UI or label.")
@click.option("-k", "--kind", metavar="KIND",
              help="Only outcomes of this kind: response, relapse, adverse event, mortality, "
              "survival, progression, other.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write the report here: .html (a standalone page) or .md "
              "[default: Markdown on stdout].")
@store_option
@handle_errors
def report(
    intervention: str,
    condition: str | None,
    kind: str | None,
    output: Path | None,
    store_path: Path | None,
) -> None:
    """An evidence report for a question: intervention × condition (× outcome kind).

    The studies with their design and n, every outcome with its numbers, the sentence it came
    from and a PubMed link, a forest plot of the proportions, and — where two studies or more
    give the same kind of outcome as a proportion — a random-effects pooled proportion with
    its interval and heterogeneity (statsmodels), with plain warnings about what pooling
    numbers read from abstracts is worth.
    """
    from kg.atomic import atomic_write
    from kg.review import review, to_html, to_markdown
    from kg.store import KgStore

    if output is not None and output.suffix.lower() not in (".html", ".htm", ".md"):
        raise click.UsageError(f"{output}: write the report as .html or .md")
    settings = Settings.from_env(store=store_path)
    found = review(KgStore(settings.store), intervention=intervention, condition=condition,
                   kind=kind)
    if output is None:
        click.echo(to_markdown(found), nl=False)
        return
    text = to_html(found) if output.suffix.lower() in (".html", ".htm") else to_markdown(found)
    try:
        with atomic_write(output, "w") as fh:
            fh.write(text)
    except OSError as exc:
        raise KgError(f"cannot write the report: {exc.strerror or exc}",
                      source=str(output)) from exc
    click.echo(f"kg: {output}: {len(found.studies)} studies, {len(found.outcomes)} outcomes, "
               f"{len(found.pooled)} pooled", err=True)


class _Progress:
    """A tqdm bar on stderr that stays silent when stderr is not a terminal; ``phase`` labels
    what is being done (a build's file k/n, then loading, compacting, indexing…)."""

    def __init__(self, unit: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(unit=f" {unit}", disable=not sys.stderr.isatty(), file=sys.stderr)

    def __enter__(self) -> _Progress:
        return self

    def tick(self) -> None:
        self.bar.update(1)

    def phase(self, label: str) -> None:
        self.bar.set_description_str(label)

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
    help="Read the query from a file (- for standard input).",
)
@click.option("-n", "--name", metavar="NAME", help="Run a named evidence question (see --list).")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Bind a parameter the query declares (repeatable; a mesh-tree one may repeat).",
)
@store_option
@click.option(
    "--format",
    "fmt",
    default=None,
    type=click.Choice(["table", "csv", "tsv", "json", "xml", "ttl", "nt", "jsonld"]),
    help="Output format [default: table on a terminal, csv when piped; ttl for graphs].",
)
@click.option("--list", "list_names", is_flag=True, help="List the named questions and exit.")
@click.option("--prefixes", is_flag=True, help="Show the prefixes every query has and exit.")
@click.option(
    "--show",
    is_flag=True,
    help="Print the query as it would run, PREFIX lines and parameters written in, and exit "
    "(it runs as is on any SPARQL 1.1 server).",
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="Ask this SPARQL 1.1 endpoint (e.g. one holding the published store) instead of the "
    "store.",
)
@click.option(
    "--allow-service",
    is_flag=True,
    help="Let SERVICE clauses fetch from the servers they name (refused otherwise, exit 3).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds the query may run; it is then stopped (exit 3). 0: no limit.",
)
@click.option(
    "--max-memory",
    type=ByteSize(),
    default="4GiB",
    show_default=True,
    help="Memory the query may hold (512MiB, 2GiB…); it is then stopped (exit 3). 0: no limit.",
)
@handle_errors
def query(
    query: str | None,
    query_file: Any,
    name: str | None,
    params: tuple[str, ...],
    store_path: Path | None,
    fmt: str | None,
    list_names: bool,
    prefixes: bool,
    show: bool,
    endpoint: str | None,
    allow_service: bool,
    timeout: float,
    max_memory: int,
) -> None:
    """Run a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE) over the store, or over a
    SPARQL endpoint (--endpoint).

    The default graph is the union of all named graphs; GRAPH ?g { … } reaches each article's
    own graph. The prefixes kg, mesh, fabio, dcterms, prism, cito, oa, schema, prov… are
    declared for every query (--prefixes). QUERY is the text, -f reads a file, --name runs a
    question shipped with kg (--list).

    --param NAME=VALUE binds a parameter that the query's header declares ("# @param NAME TYPE
    required|optional|default=V TEXT"), read by its type: a PMID, a MeSH UI or label (with or
    without the descriptors under it), text, a number, an IRI. Input is never pasted into the
    query: validated PMIDs, MeSH UIs and numbers become RDF terms that fill the query's
    "VALUES ?NAME { UNDEF }" line; free text is bound by substitution.

    kg sends no request on a query's behalf: a SERVICE clause is refused unless
    --allow-service is given. Brackets may nest 256 levels deep. The query runs in a process
    of its own, stopped past --timeout or --max-memory (exit 3).

    --endpoint URL sends the query (as --show prints it) to a SPARQL 1.1 Protocol endpoint and
    writes its answer in the same formats; for a named question it first checks that the
    server's default graph is the union of its graphs, and warns when it is not.
    """
    from kg.queries import named_queries, named_query, parse_header
    from kg.query import portable_text, prefixes_text, prepare, run_limited

    if list_names or prefixes:
        click.echo(prefixes_text() if prefixes else _list_questions(named_queries()), nl=False)
        return
    if sum(1 for given in (query, query_file, name) if given) != 1:
        raise click.UsageError("give one of QUERY, -f FILE or --name NAME (kg query --list)")
    if name:
        header = named_query(name)
    else:
        text = query_file.read() if query_file else query
        source = query_file.name if query_file else "query"
        header = parse_header(text or "", name=source)
    prepared = prepare(header, _params(params, header))
    if show:
        click.echo(portable_text(prepared).rstrip("\n"))
        return
    terminal = sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if terminal else None
    if endpoint:
        from kg.endpoint import run_remote, union_check

        wait = timeout or 600.0
        if name:
            warning = union_check(endpoint, timeout=wait)
            if warning:
                click.echo(f"kg: warning: {warning}", err=True)
        run_remote(prepared, sys.stdout.buffer, endpoint=endpoint, fmt=fmt, terminal=terminal,
                   width=width, timeout=wait)
        sys.stdout.buffer.flush()
        return
    from kg.store import KgStore

    settings = Settings.from_env(store=store_path)
    store = KgStore(settings.store)

    run_limited(
        prepared,
        sys.stdout.buffer,
        store=store,
        fmt=fmt,
        terminal=terminal,
        width=width,
        allow_service=allow_service,
        timeout=timeout or None,
        max_memory=max_memory or None,
    )
    sys.stdout.buffer.flush()


def _params(pairs: tuple[str, ...], header: Any) -> dict[str, object]:
    """``NAME=VALUE`` options → values; a mesh-tree parameter given twice → a list."""
    values: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--param {pair!r}: write NAME=VALUE")
        declared = header.param(key)
        if key in values:
            if declared is None or declared.type != "mesh-tree":
                raise click.UsageError(f"--param {key} is given twice")
            previous = values[key]
            values[key] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            values[key] = value
    return values


def _list_questions(queries: dict[str, Any]) -> str:
    """What --list prints: each question, its summary, and its parameters."""
    from kg.queries import PARAM_TYPES

    out: list[str] = []
    for q in queries.values():
        out.append(f"{q.name}: {q.summary}")
        width = max((len(p.name) for p in q.params), default=0)
        for p in q.params:
            out.append(
                f"    --param {p.name + '=…':<{width + 2}}  {p.type}, {p.usage}: {p.description}"
            )
        out.append("")
    out.append("Parameter types:")
    out += [f"    {kind:<10} {text}" for kind, text in PARAM_TYPES.items()]
    return "\n".join(out) + "\n"


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
@force_base_iri_option
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
    help="Directory of cached answers [default: $KG_CACHE_DIR, else ~/.cache/kg/eutils].",
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
@retry_options(timeout=30.0, faults="a fault", wait="with jitter")
@click.option(
    "--workers",
    type=click.IntRange(1, 10),
    default=3,
    show_default=True,
    help="Batches in flight at once (under one rate limit).",
)
@json_option
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
    force_base_iri: bool,
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
    as_json: bool = False,
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
    from kg.sources.eutils import EutilsClient, EutilsSettings, default_cache

    if as_json and not do_build and (not output or output == "-"):
        raise click.UsageError("--json needs -o FILE or --build: the records go to stdout")
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
        cache_dir=cache_dir or default_cache(),
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
            if not force_base_iri:
                _check_base_iri(settings)
            with KgStore.writing(settings.store) as store:
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
    if as_json:
        _echo_json({
            "command": "fetch", "ok": report.ok, "target": target,
            "requested": report.requested, "records": report.records,
            "batches": report.batches, "requests": report.requests, "cached": report.cached,
            "retries": report.retries, "failed": report.failed,
            "not_returned": report.not_returned, "link_errors": report.link_errors,
            "build": None if built is None else {
                "articles": built.articles, "article_graphs": built.graphs,
                "triples": built.triples, "problems": [str(p) for p in built.problems],
            },
        })
    if built is not None and not as_json:
        click.echo(
            f"{built.articles} articles · {built.graphs} article graphs · "
            f"{built.triples} triples in {target}"
        )
        for p in built.problems[:20]:
            kind = "error" if p.fatal else "warning" if p.kept else "skipped"
            click.echo(f"kg: {kind}: {one_line(str(p))}", err=True)
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


# --- kg publish: named graphs to a Graph Store Protocol server ---------------------------------


@main.command(epilog=EXIT_CODES)
@click.option(
    "--endpoint",
    required=True,
    metavar="URL",
    help="Graph Store Protocol URL, e.g. http://localhost:7878/store (Oxigraph), "
    "http://localhost:3030/ds/data (Fuseki).",
)
@click.option(
    "--query-endpoint",
    metavar="URL",
    help="The same server's SPARQL query endpoint (http://localhost:7878/query): after "
    "publishing, check there that its default graph is the union of the graphs, as kg's "
    "named questions need, and warn when it is not.",
)
@store_option
@click.option(
    "--graph-mode",
    type=click.Choice(["per-article", "single"]),
    default="per-article",
    show_default=True,
    help="One named graph per article (as in the store), or everything in --graph.",
)
@click.option(
    "--graph", "graph_iri", metavar="IRI", help="The target graph of --graph-mode single."
)
@click.option("--user", default=None, help="HTTP Basic user [$KG_PUBLISH_USER].")
@click.option("--password", default=None, help="HTTP Basic password [$KG_PUBLISH_PASSWORD].")
@click.option(
    "--token-env",
    default="KG_PUBLISH_TOKEN",
    show_default=True,
    metavar="NAME",
    help="Environment variable holding a bearer token (sent when set and no --user).",
)
@click.option(
    "--record",
    "record_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="What was published, per endpoint [default: STORE.published.json beside the store].",
)
@click.option("--force", is_flag=True, help="Send every graph, changed or not.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=100,
    show_default=True,
    help="Graphs per batch (the record is saved after each).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Requests in flight at once.",
)
@click.option(
    "--graph-param",
    default="graph",
    show_default=True,
    help="Query parameter naming the graph (Virtuoso's is graph-uri).",
)
@retry_options(
    timeout=60.0, faults="429, 5xx or a connection fault", wait="or the server's Retry-After"
)
@json_option
@handle_errors
def publish(
    endpoint: str,
    query_endpoint: str | None,
    store_path: Path | None,
    graph_mode: str,
    graph_iri: str | None,
    user: str | None,
    password: str | None,
    token_env: str,
    record_path: Path | None,
    force: bool,
    dry_run: bool,
    batch_size: int,
    workers: int,
    graph_param: str,
    timeout: float,
    retries: int,
    backoff: float,
    as_json: bool = False,
) -> None:
    """Push the store's named graphs to a SPARQL 1.1 Graph Store Protocol server.

    PUT replaces a graph, DELETE drops one. A record beside the store remembers what each
    endpoint was sent (a SHA-256 per graph): publishing again PUTs only the graphs that changed
    and DELETEs those no longer in the store. Faults (429, 5xx, connection) are retried with
    backoff; graphs that still fail are named at the end (exit code 3).
    """
    from kg.errors import UsageError
    from kg.publish import PublishSettings
    from kg.publish import publish as run_publish
    from kg.store import KgStore

    user = user or os.environ.get("KG_PUBLISH_USER") or None
    password = password or os.environ.get("KG_PUBLISH_PASSWORD") or None
    token = None if user else os.environ.get(token_env) or None
    try:
        options = PublishSettings(
            endpoint=endpoint,
            mode="single" if graph_mode == "single" else "per-article",
            graph=graph_iri,
            user=user,
            password=password,
            token=token,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            batch_size=batch_size,
            workers=workers,
            graph_param=graph_param,
            force=force,
            dry_run=dry_run,
        )
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    settings = Settings.from_env(store=store_path)
    store = KgStore(settings.store)
    with _progress("graphs") as progress:
        report = run_publish(store, options, record_path=record_path, on_graph=progress.tick)
    if not as_json:
        click.echo(report.summary())
    for failure in report.failures:
        click.echo(f"kg: error: {failure}", err=True)
    union: bool | None = None
    if query_endpoint and not dry_run:
        from kg.endpoint import union_check

        warning = union_check(query_endpoint, timeout=timeout)
        union = warning is None
        click.echo(f"kg: warning: {warning}" if warning else
                   f"{query_endpoint}: the default graph is the union of the graphs", err=True)
    if as_json:
        _echo_json({
            "command": "publish", "ok": report.ok, "endpoint": report.endpoint,
            "mode": report.mode, "dry_run": report.dry_run, "put": len(report.put),
            "deleted": len(report.deleted), "unchanged": report.unchanged,
            "triples": report.triples, "bytes": report.bytes, "requests": report.requests,
            "retries": report.retries, "failures": report.failures,
            "union_default_graph": union,
        })
    if not report.ok:
        sys.exit(3)


# --- kg serve: SPARQL endpoint and linked-data front -------------------------------------------


@main.command(epilog=EXIT_CODES)
@store_option
@base_iri_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--query-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds a SPARQL query may run; its worker is then killed (503).",
)
@click.option(
    "--query-memory",
    type=ByteSize(),
    default="1GiB",
    show_default=True,
    help="Memory one SPARQL query may hold (512MiB, 2GiB…); its worker is then killed (503).",
)
@click.option(
    "--max-result-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=16.0,
    show_default=True,
    help="Largest SPARQL result sent, in MiB (400 beyond).",
)
@click.option(
    "--query-workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Worker processes running SPARQL queries (queries at once).",
)
@click.option(
    "--cache-size",
    type=click.IntRange(min=0),
    default=256,
    show_default=True,
    help="Article pages and resource descriptions kept in memory (0: none).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="One line per request on stderr: client, request, status, bytes, milliseconds.",
)
@handle_errors
def serve(
    store_path: Path | None,
    base_iri: str | None,
    host: str,
    port: int,
    query_timeout: float,
    query_memory: int,
    max_result_mb: float,
    query_workers: int,
    cache_size: int,
    access_log: bool,
) -> None:
    """Serve the store: a SPARQL 1.1 endpoint at /sparql and every IRI kg mints as linked data.

    The server stands for the base IRI: /pubmed/23906502 describes <BASE>pubmed/23906502, as
    Turtle, N-Triples, JSON-LD or an HTML page (content negotiation, or a .ttl/.nt/.jsonld
    suffix). Pages: articles with their evidence, studies, /mesh/UI, /search, and the VoID
    description at /.well-known/void. Read-only; stop it with Ctrl-C.

    The base IRI is the one the store's IRIs were minted under (its VoID uriSpace) unless
    --base-iri or $KG_BASE_IRI says otherwise.
    """
    import uvicorn

    from kg.web.app import create_app
    from kg.web.settings import MiB, ServeSettings

    settings = Settings.from_env(base_iri=base_iri, store=store_path)
    settings = _serve_base_iri(settings, given=bool(base_iri or os.environ.get("KG_BASE_IRI")))
    _log_access(on=access_log)
    app = create_app(
        ServeSettings(
            store=settings.store,
            base_iri=settings.base_iri,
            query_timeout=query_timeout,
            query_memory=query_memory,
            max_result_bytes=int(max_result_mb * MiB),
            query_workers=query_workers,
            cache_size=cache_size,
        )
    )
    sock = _listen(host, port)  # bound before "serving … on" is said, and port 0 made real
    bound = sock.getsockname()[1]
    where = f"http://[{host}]:{bound}/" if ":" in host else f"http://{host}:{bound}/"
    click.echo(f"kg: serving {settings.store} as {settings.base_iri} on {where}", err=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def _serve_base_iri(settings: Settings, *, given: bool) -> Settings:
    """The base IRI to serve: the store's own (``void:uriSpace`` of its metadata) unless one was
    given; a given one the store's IRIs do not use is served, with a warning (every IRI of the
    store would then answer 404)."""
    import dataclasses

    from kg.rdf.metadata import store_uri_spaces
    from kg.store import KgStore, current_version

    if current_version(settings.store) is None:
        return settings  # create_app says what is wrong with the store
    with KgStore(settings.store) as store:
        spaces = store_uri_spaces(store.store)
    if given:
        if spaces and settings.base_iri not in spaces:
            held = ", ".join(f"<{b}>" for b in sorted(spaces))
            click.echo(
                f"kg: warning: serving as <{settings.base_iri}>, but the store's IRIs are minted "
                f"under {held}: their pages will not be found (leave out --base-iri and "
                "$KG_BASE_IRI to serve the store's own)",
                err=True,
            )
        return settings
    if len(spaces) > 1:
        held = ", ".join(f"<{b}>" for b in sorted(spaces))
        raise click.UsageError(f"the store's IRIs are minted under {held}: say which to serve "
                               "with --base-iri")
    if spaces:
        return dataclasses.replace(settings, base_iri=next(iter(spaces)))
    return settings


def _log_access(*, on: bool) -> None:
    """The access log (``kg.web.access``) on stderr, one line per request with its time; off,
    it stays silent whatever ``-v`` makes of the other loggers."""
    access = logging.getLogger("kg.web.access")
    access.propagate = False
    if not on:
        access.setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(message)s", datefmt="[%d/%b/%Y:%H:%M:%S %z]")
    )
    access.addHandler(handler)
    access.setLevel(logging.INFO)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port``; one line (exit 3) when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise KgError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


# --- kg validate: SHACL shapes as a data-quality gate ------------------------------------------


@main.command(epilog=EXIT_CODES)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "turtle", "json"]),
    default="text",
    show_default=True,
    help="A report for people, or the SHACL validation report as Turtle or JSON-LD.",
)
@click.option(
    "--shapes",
    "shapes_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of SHACL shapes (*.ttl) [default: the shapes/ kg ships].",
)
@click.option(
    "--fail-on",
    type=click.Choice(["violation", "warning", "info"]),
    default="violation",
    show_default=True,
    help="The lowest severity that makes the data fail (exit code 1).",
)
@click.option(
    "--show",
    type=click.Choice(["violation", "warning", "info"]),
    default="warning",
    show_default=True,
    help="The lowest severity the text report lists one by one (the rest are counted).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes validating articles in parallel [default: one per CPU].",
)
@click.option(
    "--engine",
    type=click.Choice(["sparql", "pyshacl", "turbo"]),
    default="sparql",
    show_default=True,
    help="SHACL engine: the shapes compiled to SPARQL over the whole store (pySHACL's results, "
    "faster), pySHACL itself, or pyshacl-turbo (optional package).",
)
@handle_errors
def validate(
    files: tuple[Path, ...],
    store_path: Path | None,
    fmt: str,
    shapes_dir: Path | None,
    fail_on: str,
    show: str,
    workers: int | None,
    engine: str,
) -> None:
    """Check the store (or RDF dumps: ttl, nt, nq, trig, jsonld) against kg's SHACL shapes.

    Each article's graph is validated on its own, in parallel; the report groups what is wrong
    by article and shape. Violations fail (exit code 1); warnings (numbers the abstract itself
    gets wrong, recorded as kg:conflict) and infos (NLM headings missing from kg's MeSH table)
    are reported, and fail only with --fail-on.
    """
    from kg.validate import load_files, report_text
    from kg.validate import validate as run_validate

    if files and store_path is not None:
        raise click.UsageError("give FILE... or --store, not both")
    if files:
        data: Any = load_files(list(files))
    else:
        from kg.store import KgStore

        settings = Settings.from_env(store=store_path)
        data = KgStore(settings.store)
    with _progress("graphs") as progress:
        report = run_validate(
            data,
            shapes=shapes_dir,
            workers=workers,
            engine=engine,  # type: ignore[arg-type]
            fail_on=fail_on.capitalize(),  # type: ignore[arg-type]
            on_unit=progress.tick,
        )
    if fmt == "text":
        click.echo(report_text(report, show=show.capitalize()), nl=False)  # type: ignore[arg-type]
    else:
        out = report.graph.serialize(format="turtle" if fmt == "turtle" else "json-ld")
        click.echo(out, nl=not out.endswith("\n"))
    if not report.conforms:
        sys.exit(1)
