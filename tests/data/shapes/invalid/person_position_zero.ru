# Author position 0.
# expect: violation kgsh:Author-position <18719013/author/1> schema:position minInclusive
DELETE WHERE { <18719013/author/1> schema:position ?p } ;
INSERT DATA { <18719013/author/1> schema:position 0 }
