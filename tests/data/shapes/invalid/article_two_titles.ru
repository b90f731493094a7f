# Two titles.
# expect: violation kgsh:Article <23906502> dcterms:title maxCount
INSERT DATA { <23906502> dcterms:title "Another title" }
