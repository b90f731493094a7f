# A count typed as a string.
# expect: violation kgsh:Measurement <23906502/measurement/1> kg:count datatype
DELETE DATA { <23906502/measurement/1> kg:count 19 } ;
INSERT DATA { <23906502/measurement/1> kg:count "19" }
