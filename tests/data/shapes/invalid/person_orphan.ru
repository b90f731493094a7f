# An author no article names.
# expect: violation kgsh:Author-article <18719013/author/1> ^dcterms:creator minCount
DELETE DATA { <18719013> dcterms:creator <18719013/author/1> }
