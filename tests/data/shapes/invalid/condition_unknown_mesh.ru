# A condition kg tied to a MeSH IRI that does not exist.
# expect: violation kgsh:Mesh-known <23906502/condition/1> kg:mesh class
DELETE DATA { <23906502/condition/1> kg:mesh mesh:D003882 } ;
INSERT DATA { <23906502/condition/1> kg:mesh mesh:D999999 }
