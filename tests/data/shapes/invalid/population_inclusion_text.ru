# Inclusion text that is not the inclusion span's quote.
# expect: violation kgsh:Population <23906502/population/1> kg:inclusionCriteria kgsh:Population-inclusion-quote
DELETE WHERE { <23906502/population/1> kg:inclusionCriteria ?t } ;
INSERT DATA { <23906502/population/1> kg:inclusionCriteria "who were treated with IVIg" }
