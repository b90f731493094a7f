"""``kg serve``: a SPARQL endpoint and a linked-data front over the store (:mod:`kg.web.app`)."""
