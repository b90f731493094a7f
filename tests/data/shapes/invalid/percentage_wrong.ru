# 90% of 19/27 (the text says 70%).
# expect: violation kgsh:MeasurementNumbers <23906502/measurement/1> kg:percentage sparql
DELETE WHERE { <23906502/measurement/1> kg:percentage ?p } ;
INSERT DATA { <23906502/measurement/1> kg:percentage 90.0 }
