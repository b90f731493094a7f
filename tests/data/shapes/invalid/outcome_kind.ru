# An outcome kind outside the list.
# expect: violation kgsh:Outcome <23906502/outcome/1> kg:outcomeKind in
DELETE DATA { <23906502/outcome/1> kg:outcomeKind "response" } ;
INSERT DATA { <23906502/outcome/1> kg:outcomeKind "benefit" }
