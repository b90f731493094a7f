# A section whose offsets are off by one.
# expect: violation kgsh:AbstractSection <23906502/section/2> rdf:value kgsh:AbstractSection-text-at-offsets
DELETE DATA { <23906502/section/2> kg:startOffset 290 } ;
INSERT DATA { <23906502/section/2> kg:startOffset 291 }
