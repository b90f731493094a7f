# Two authors in one position.
# expect: violation kgsh:AuthorPositionUnique <18719013> dcterms:creator sparql
DELETE WHERE { <18719013/author/2> schema:position ?p } ;
INSERT DATA { <18719013/author/2> schema:position 1 }
