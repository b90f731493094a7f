# A MeSH term written as a string, not an IRI.
# expect: violation kgsh:Mesh-iri <23906502/intervention/1> kg:mesh
# expect: violation kgsh:Mesh-known <23906502/intervention/1> kg:mesh class
DELETE DATA { <23906502/intervention/1> kg:mesh mesh:D016756 } ;
INSERT DATA { <23906502/intervention/1> kg:mesh "D016756" }
