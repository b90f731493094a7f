# A sameAs link that is a string, not a PubMed/DOI/PMC IRI.
# expect: violation kgsh:Article <23906502> schema:sameAs
INSERT DATA { <23906502> schema:sameAs "https://example.org/" }
