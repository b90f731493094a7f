# Count above its denominator (6 of 27 made 30 of 27), in a single-arm cohort of 27.
# expect: violation kgsh:MeasurementNumbers <23906502/measurement/7> kg:count sparql
# expect: violation kgsh:Measurement <23906502/measurement/7> kg:count kgsh:Measurement-count-within-sample
DELETE DATA { <23906502/measurement/7> kg:count 6 } ;
INSERT DATA { <23906502/measurement/7> kg:count 30 }
