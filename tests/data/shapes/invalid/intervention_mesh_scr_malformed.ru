# A supplementary-concept IRI (C…) that is no MeSH UI: too few digits.
# expect: violation kgsh:Mesh-iri <23906502/intervention/1> kg:mesh pattern
# expect: violation kgsh:Mesh-known <23906502/intervention/1> kg:mesh class
DELETE DATA { <23906502/intervention/1> kg:mesh mesh:D016756 } ;
INSERT DATA { <23906502/intervention/1> kg:mesh <http://id.nlm.nih.gov/mesh/C55> }
