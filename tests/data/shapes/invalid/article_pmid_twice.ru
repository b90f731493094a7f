# Two PMIDs on one article.
# expect: violation kgsh:Article <23906502> fabio:hasPubMedId maxCount
# expect: violation kgsh:PubMedId <23906502> fabio:hasPubMedId maxCount
# expect: violation kgsh:Article <23906502> fabio:hasPubMedId kgsh:Article-iri-names-pmid
INSERT DATA { <23906502> fabio:hasPubMedId "23906503" }
