# A CI lower bound without its upper bound.
# expect: violation kgsh:Measurement <23906502/measurement/1> kg:ciLower kgsh:Measurement-pairs
INSERT DATA { <23906502/measurement/1> kg:ciLower 40.0 }
