# An outcome that does not say how it was found.
# expect: violation kgsh:Provenance <23906502/outcome/1> kg:foundBy minCount
DELETE WHERE { <23906502/outcome/1> kg:foundBy ?f }
