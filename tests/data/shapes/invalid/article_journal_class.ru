# A journal link to a node that is no journal.
# expect: violation kgsh:Article <23906502> dcterms:isPartOf class
INSERT DATA { <23906502> dcterms:isPartOf <23906502/section/1> }
