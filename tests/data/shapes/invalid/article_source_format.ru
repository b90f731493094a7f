# A source format kg does not have.
# expect: violation kgsh:Article <23906502> kg:sourceFormat in
DELETE DATA { <23906502> kg:sourceFormat "page-text" } ;
INSERT DATA { <23906502> kg:sourceFormat "csv" }
