# A property the mapping does not emit (a misspelling).
# expect: violation kgsh:Article <23906502> kg:journalTitel closed
INSERT DATA { <23906502> kg:journalTitel "J Eur Acad Dermatol Venereol" }
