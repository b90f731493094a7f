# A PMC id without 'PMC'.
# expect: violation kgsh:Article <23906502> fabio:hasPubMedCentralId pattern
INSERT DATA { <23906502> fabio:hasPubMedCentralId "3706072" }
