# A licence that is a string.
# expect: violation kgsh:Dataset <../dataset> dcterms:license nodeKind
DELETE WHERE { <../dataset> dcterms:license ?l } ;
INSERT DATA { <../dataset> dcterms:license "NLM terms" }
