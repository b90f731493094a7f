# A graph count that is not the articles plus the metadata graph.
# expect: violation kgsh:Dataset <../dataset> kg:graphCount sparql
DELETE WHERE { <../dataset> kg:graphCount ?n } ;
INSERT DATA { <../dataset> kg:graphCount 1000 }
