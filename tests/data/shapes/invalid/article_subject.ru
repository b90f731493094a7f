# A subject outside MeSH.
# expect: violation kgsh:Article <18719013> dcterms:subject pattern
INSERT DATA { <18719013> dcterms:subject <http://example.org/topic> }
