# An arm role that is neither intervention nor comparator.
# expect: violation kgsh:Intervention <23906502/intervention/1> kg:armRole in
DELETE DATA { <23906502/intervention/1> kg:armRole "intervention" } ;
INSERT DATA { <23906502/intervention/1> kg:armRole "treatment" }
