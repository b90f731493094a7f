# A malformed PMID: a leading zero.
# expect: violation kgsh:PubMedId <23906502> fabio:hasPubMedId pattern
# expect: violation kgsh:Article <23906502> fabio:hasPubMedId kgsh:Article-iri-names-pmid
DELETE DATA { <23906502> fabio:hasPubMedId "23906502" } ;
INSERT DATA { <23906502> fabio:hasPubMedId "023906502" }
