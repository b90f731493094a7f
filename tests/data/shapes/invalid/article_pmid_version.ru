# PMID version 0.
# expect: violation kgsh:Article <23906502> kg:pmidVersion minInclusive
DELETE DATA { <23906502> kg:pmidVersion 1 } ;
INSERT DATA { <23906502> kg:pmidVersion 0 }
